package chat.protocol.bus.user;

import static chat.protocol.bus.BusFields.checkId;
import static chat.protocol.bus.BusFields.checkPositive;

import chat.protocol.bus.BusFields;
import chat.protocol.bus.BusJson;
import com.fasterxml.jackson.annotation.JsonInclude;
import io.vertx.core.json.JsonObject;

/**
 * Request on {@code chat.user.login.data}: what a LOGIN ack shows of the user, read at once —
 * the {@link Profile} of {@code chat.user.profile.get} and the first {@link OfflinePage} of
 * {@code chat.user.offline.page}, in one database round trip instead of three.
 *
 * @param limit stored messages at most, as {@link OfflinePage#limit()}
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record LoginData(int userId, Integer limit) {

  public LoginData {
    checkId("userId", userId);
    checkPositive("limit", limit);
  }

  /** The page size served: {@code limit}, at most {@value OfflinePage#MAX_PAGE}. */
  public int served() {
    return new OfflinePage(userId, limit).served();
  }

  /** Reply: the profile and the oldest pending messages. It maps itself, as the page does. */
  public record Reply(Profile profile, OfflinePage.Reply offline) {

    public Reply {
      profile = profile == null ? new Profile(null, null) : profile;
      offline = offline == null ? new OfflinePage.Reply(null, false) : offline;
    }

    public JsonObject toJson() {
      return new JsonObject().put("profile", BusJson.toJson(profile))
          .put("offline", offline.toJson());
    }

    /** The reply a body holds; INVALID_INPUT when it is not one. */
    public static Reply fromJson(JsonObject body) {
      if (body == null) {
        throw BusFields.invalid("no body");
      }
      return new Reply(BusJson.fromJson(BusFields.object(body, "profile"), Profile.class),
          OfflinePage.Reply.fromJson(BusFields.object(body, "offline")));
    }
  }
}
