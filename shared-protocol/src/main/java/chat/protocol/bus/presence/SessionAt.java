package chat.protocol.bus.presence;

import java.util.Objects;

/** One session of a user: its id and the node whose gateway holds it. */
public record SessionAt(String sessionId, String nodeId) {

  public SessionAt {
    Objects.requireNonNull(sessionId, "sessionId");
    Objects.requireNonNull(nodeId, "nodeId");
  }
}
