package chat.protocol.bus.presence;

import chat.protocol.bus.LoginPolicy;
import java.util.List;
import java.util.Objects;

/**
 * Request on {@code chat.presence.session.connect}: a user session that logged in.
 *
 * @param transport {@code tcp} or {@code ws} ({@code tcp} when absent)
 * @param policy    a {@link LoginPolicy#wireName()} ({@code kick} when absent)
 * @param seq       the gateway's connect number (see {@code chat.presence.node.digest})
 */
public record Connect(int userId, String sessionId, String nodeId, String transport,
                      String policy, long seq) {

  public Connect {
    if (userId < 1) {
      throw new IllegalArgumentException("userId must be a user id, was " + userId);
    }
    Objects.requireNonNull(sessionId, "sessionId");
    Objects.requireNonNull(nodeId, "nodeId");
    transport = transport == null ? "tcp" : transport;
    policy = LoginPolicy.parse(policy == null ? LoginPolicy.KICK.wireName() : policy).wireName();
  }

  public LoginPolicy loginPolicy() {
    return LoginPolicy.parse(policy);
  }

  /** Reply: the sessions this login replaced (closed before the reply), and the state's v. */
  public record Reply(List<SessionAt> replaced, long v) {

    public Reply {
      replaced = replaced == null ? List.of() : List.copyOf(replaced);
    }
  }
}
