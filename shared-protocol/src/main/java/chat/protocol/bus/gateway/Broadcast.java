package chat.protocol.bus.gateway;

import io.vertx.core.json.JsonObject;
import java.util.Objects;

/**
 * Published on {@code chat.gateway.all.broadcast}: every gateway writes the payload to every
 * logged-in session.
 *
 * @param payload the message the clients get, as the client protocol has it
 */
public record Broadcast(JsonObject payload) {

  public Broadcast {
    Objects.requireNonNull(payload, "payload");
  }
}
