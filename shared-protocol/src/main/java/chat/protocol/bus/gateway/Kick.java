package chat.protocol.bus.gateway;

import java.util.Objects;

/**
 * Request on {@code chat.gateway.<nodeId>.kick}: another login took over this user session;
 * the node writes KICKED and closes it.
 */
public record Kick(int userId, String sessionId) {

  public Kick {
    if (userId < 1) {
      throw new IllegalArgumentException("userId must be a user id, was " + userId);
    }
    Objects.requireNonNull(sessionId, "sessionId");
  }

  /** Reply, once KICKED is written and the socket closed (or the session was not there). */
  public record Reply() {
  }
}
