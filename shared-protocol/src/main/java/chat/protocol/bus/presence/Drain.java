package chat.protocol.bus.presence;

import java.util.Objects;

/**
 * Request on {@code chat.presence.node.drain}: a stopping node's sessions are to be removed
 * and its users written offline.
 */
public record Drain(String nodeId) {

  public Drain {
    Objects.requireNonNull(nodeId, "nodeId");
  }

  /** Reply, once done: how many users had sessions on the node. */
  public record Reply(int users) {
  }
}
