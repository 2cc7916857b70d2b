package chat.gateway.session;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

/** Handles one parsed client request; failures become ERROR replies. */
public interface RequestHandler {

  Future<Void> handle(Session session, JsonObject request);
}
