package chat.protocol.bus.user;

import static chat.protocol.bus.BusFields.checkId;
import static chat.protocol.bus.BusFields.checkNonNegative;
import static chat.protocol.bus.BusFields.checkOptionalId;
import static chat.protocol.bus.BusFields.checkToken;
import static chat.protocol.bus.BusFields.invalid;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * Request on {@code chat.user.history.get}: a page of one conversation of the user, with
 * another user ({@code with}) or of a group ({@code groupid}): exactly one of them.
 *
 * @param before a msgno of that conversation: only older messages (the newest when absent)
 * @param limit  how many at most (non-negative; {@value #DEFAULT_LIMIT} when absent, served
 *               as at most {@value #MAX_LIMIT})
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record History(int userId, Integer with, Integer groupid, String before, Integer limit) {

  public static final int DEFAULT_LIMIT = 50;
  public static final int MAX_LIMIT = 200;

  public History {
    checkId("userId", userId);
    checkOptionalId("with", with);
    checkOptionalId("groupid", groupid);
    if ((with == null) == (groupid == null)) {
      throw invalid("exactly one of with and groupid is required");
    }
    if (before != null) {
      checkToken("before", before, Append.MAX_MSGNO_LENGTH);
    }
    checkNonNegative("limit", limit);
  }

  /**
   * The page size served: {@code limit} or {@value #DEFAULT_LIMIT},
   * at most {@value #MAX_LIMIT}.
   */
  public int served() {
    return Math.min(limit == null ? DEFAULT_LIMIT : limit, MAX_LIMIT);
  }

  /**
   * Reply: the messages (chats as delivered), oldest first, and whether older ones exist. It
   * maps itself, as {@link OfflinePage.Reply}.
   */
  public record Reply(List<JsonObject> messages, boolean more) {

    public Reply {
      messages = messages == null ? List.of() : List.copyOf(messages);
    }

    public JsonObject toJson() {
      return new JsonObject().put("messages", new JsonArray(new ArrayList<>(messages)))
          .put("more", more);
    }

    /** The reply a body holds; INVALID_INPUT when it is not one. */
    public static Reply fromJson(JsonObject body) {
      return new Reply(Pages.objects(body, "messages"), Pages.more(body));
    }
  }
}
