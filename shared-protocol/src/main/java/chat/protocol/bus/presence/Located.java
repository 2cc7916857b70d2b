package chat.protocol.bus.presence;

import java.util.List;
import java.util.Map;

/**
 * Reply on {@code chat.presence.locate}: the sessions of each online user, by user id (as a
 * string, JSON's only key type); users who are offline do not appear.
 */
public record Located(Map<String, List<SessionAt>> sessions) {

  public Located {
    sessions = sessions == null ? Map.of() : Map.copyOf(sessions);
  }

  /** The sessions of one user; empty when the user is offline. */
  public List<SessionAt> of(int userId) {
    return sessions.getOrDefault(String.valueOf(userId), List.of());
  }
}
