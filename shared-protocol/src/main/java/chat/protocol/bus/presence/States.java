package chat.protocol.bus.presence;

import java.util.Map;

/**
 * Reply on {@code chat.presence.query}: each asked user's state ({@code online} or
 * {@code offline}) and its version {@code v} (0 when none yet), by user id as a string.
 */
public record States(Map<String, String> states, Map<String, Long> versions) {

  public static final String ONLINE = "online";
  public static final String OFFLINE = "offline";

  public States {
    states = states == null ? Map.of() : Map.copyOf(states);
    versions = versions == null ? Map.of() : Map.copyOf(versions);
  }

  /** The user's state; {@code offline} when presence did not name the user. */
  public String stateOf(int userId) {
    return states.getOrDefault(String.valueOf(userId), OFFLINE);
  }

  /** The version of the user's state; 0 when presence did not name one. */
  public long versionOf(int userId) {
    return versions.getOrDefault(String.valueOf(userId), 0L);
  }
}
