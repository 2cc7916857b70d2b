package chat.protocol.bus.user;

import static chat.protocol.bus.BusFields.checkId;
import static chat.protocol.bus.BusFields.checkPositive;
import static chat.protocol.bus.BusFields.required;

import chat.protocol.bus.BusFields;
import com.fasterxml.jackson.annotation.JsonInclude;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * Request on {@code chat.user.offline.page}: the user's oldest pending stored messages.
 *
 * @param limit how many at most (positive; the service serves at most {@value #MAX_PAGE},
 *              also when absent)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record OfflinePage(int userId, Integer limit) {

  /** Messages per page, and msgnos per acknowledgement ({@link OfflineAck}), at most. */
  public static final int MAX_PAGE = 10_000;

  public OfflinePage {
    checkId("userId", userId);
    checkPositive("limit", limit);
  }

  /** The page size served: {@code limit}, at most {@value #MAX_PAGE}. */
  public int served() {
    return limit == null ? MAX_PAGE : Math.min(limit, MAX_PAGE);
  }

  /**
   * Reply: the page, oldest first, and whether more messages wait. It maps itself (a page
   * holds up to {@value #MAX_PAGE} chats: jackson's text round trip would cost several
   * microseconds each).
   */
  public record Reply(List<Stored> messages, boolean more) {

    public Reply {
      messages = messages == null ? List.of() : List.copyOf(messages);
    }

    public JsonObject toJson() {
      JsonArray json = new JsonArray(new ArrayList<>(messages.size()));
      messages.forEach(m -> json.add(new JsonObject().put("msgno", m.msgno())
          .put("message", m.message())));
      return new JsonObject().put("messages", json).put("more", more);
    }

    /** The reply a body holds; INVALID_INPUT when it is not one. */
    public static Reply fromJson(JsonObject body) {
      List<Stored> messages = new ArrayList<>();
      for (JsonObject item : Pages.objects(body, "messages")) {
        messages.add(new Stored(BusFields.string(item, "msgno"),
            BusFields.object(item, "message")));
      }
      return new Reply(messages, Pages.more(body));
    }
  }

  /** A stored message: its msgno and the chat as it was delivered. */
  public record Stored(String msgno, JsonObject message) {

    public Stored {
      required("msgno", msgno);
      required("message", message);
    }
  }
}
