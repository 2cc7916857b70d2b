package chat.gateway.session;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.List;

/** Handles one parsed client request; failures become ERROR replies. */
public interface RequestHandler {

  Future<Void> handle(Session session, JsonObject request);

  /**
   * Chat messages accepted for this user session that will never be written (the connection
   * closed, or the login was abandoned), oldest first: stored for the user's next login. The
   * future completes once they are stored (or storing them finally failed).
   */
  default Future<Void> keep(Session session, int userId, List<JsonObject> messages) {
    return Future.succeededFuture();
  }

  /** A chat message (its msgno) was written to this user session's socket. */
  default void written(Session session, int userId, String msgno) {
  }

  /** The session has ended; whatever it still had in progress is left to finish alone. */
  default void ended(Session session) {
  }
}
