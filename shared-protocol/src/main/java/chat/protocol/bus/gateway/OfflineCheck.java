package chat.protocol.bus.gateway;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * Request on {@code chat.gateway.<nodeId>.offline.check}: messages were stored for a user who
 * is online on that node; the session delivers those it has not had.
 *
 * @param sessionId that session; absent: every session of the user there
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record OfflineCheck(int userId, String sessionId) {

  public OfflineCheck {
    if (userId < 1) {
      throw new IllegalArgumentException("userId must be a user id, was " + userId);
    }
  }

  /** Reply, once the stored messages are queued (fails NO_SESSION when it is not there). */
  public record Reply() {
  }
}
