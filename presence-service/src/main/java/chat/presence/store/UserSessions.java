package chat.presence.store;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;

/**
 * The value of one user's entry in the online map: the user's live sessions and the version
 * of the user's last online/offline transition. An entry with no session is a tombstone: it
 * keeps the version for a while so that a later transition always gets a higher one.
 */
public record UserSessions(List<SessionRef> sessions, long version) implements Serializable {

  public UserSessions {
    sessions = List.copyOf(sessions);
  }

  public boolean online() {
    return !sessions.isEmpty();
  }

  /** The version the next transition of this user gets: higher than any given before. */
  public static long nextVersion(UserSessions current, long nowMillis) {
    long fromClock = nowMillis * 1000;
    return current == null ? fromClock : Math.max(current.version() + 1, fromClock);
  }

  public UserSessions with(SessionRef added, long newVersion) {
    List<SessionRef> next = new ArrayList<>(sessions);
    next.add(added);
    return new UserSessions(next, newVersion);
  }

  public UserSessions without(Collection<SessionRef> removed, long newVersion) {
    List<SessionRef> next = new ArrayList<>(sessions);
    next.removeAll(removed);
    return new UserSessions(next, newVersion);
  }

  public List<SessionRef> onNodesOtherThan(Set<String> liveNodes) {
    return sessions.stream().filter(s -> !liveNodes.contains(s.nodeId())).toList();
  }
}
