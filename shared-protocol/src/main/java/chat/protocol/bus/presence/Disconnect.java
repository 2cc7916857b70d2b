package chat.protocol.bus.presence;

import java.util.Objects;

/**
 * Request on {@code chat.presence.session.disconnect}: exactly this session ended.
 *
 * @param reason why, for logs (a {@code CloseReason} of the gateway, lower case)
 */
public record Disconnect(int userId, String sessionId, String nodeId, String reason) {

  public Disconnect {
    if (userId < 1) {
      throw new IllegalArgumentException("userId must be a user id, was " + userId);
    }
    Objects.requireNonNull(sessionId, "sessionId");
  }

  /** Reply: whether it was the user's last session (the user is offline now). */
  public record Reply(boolean wentOffline) {
  }
}
