package chat.gateway.session;

import io.vertx.core.json.JsonObject;
import java.util.List;

/** What a session reports to the rest of the system. */
public interface SessionEvents {

  /**
   * A user session ended (logout, or the connection closed while logged in). Called exactly
   * once per successful presence registration, after it completed.
   *
   * @param why {@code logout} or the lower-case name of a {@link CloseReason}
   */
  void userSessionEnded(int userId, String sessionId, String why);

  /**
   * Chat messages accepted for this user that never reached the socket (slow client, broken
   * connection), oldest first: they must not be lost.
   */
  void undelivered(int userId, List<JsonObject> messages);
}
