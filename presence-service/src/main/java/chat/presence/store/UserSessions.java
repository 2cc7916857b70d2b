package chat.presence.store;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;

/**
 * The value of one user's entry in the online map: the user's live sessions, the version of
 * the user's last online/offline transition, and the ids of the sessions that ended most
 * recently.
 *
 * <p>The version is a counter: each transition adds one to the highest version known for the
 * user (the entry's, or the database row's when the entry was lost and had to be seeded), so
 * it never goes backwards whatever the clocks say. An entry is never expired: an entry with
 * no session keeps the user's version ({@link #UNSEEDED} when it has not been read from the
 * database yet).
 *
 * <p>{@code ended} lets a session's end be reported before its connect is applied (a login
 * the gateway gave up on): the late connect finds its id there and adds nothing; a digest
 * that still lists an ended session has it closed instead of restored.
 */
public record UserSessions(List<SessionRef> sessions, long version, List<String> ended)
    implements Serializable {

  /** The version of an entry whose counter has not been seeded from the database. */
  public static final long UNSEEDED = -1;
  /** How many ended session ids an entry remembers. */
  static final int ENDED_KEPT = 16;

  public UserSessions {
    sessions = List.copyOf(sessions);
    ended = List.copyOf(ended);
  }

  public boolean online() {
    return !sessions.isEmpty();
  }

  public boolean seeded() {
    return version != UNSEEDED;
  }

  /** The version of this user that clients see: 0 when none was ever given. */
  public static long visibleVersion(UserSessions entry) {
    return entry == null || !entry.seeded() ? 0 : entry.version();
  }

  /**
   * The version the next transition of this user gets: one more than the highest version
   * known, from the entry or from {@code floor} (the database row's, or -1).
   */
  public static long nextVersion(UserSessions current, long floor) {
    long known = current == null ? UNSEEDED : current.version();
    return Math.max(known, floor) + 1;
  }

  public boolean holds(String sessionId) {
    // indexed loops here and below: the repair's scans call these for every local entry
    // every round, and an iterator per call was most of what the scans allocated
    for (int i = 0; i < sessions.size(); i++) {
      if (sessions.get(i).sessionId().equals(sessionId)) {
        return true;
      }
    }
    return false;
  }

  /** Whether a session is on the given node. */
  public boolean heldOn(String nodeId) {
    for (int i = 0; i < sessions.size(); i++) {
      if (sessions.get(i).nodeId().equals(nodeId)) {
        return true;
      }
    }
    return false;
  }

  /** Whether a session is on a node outside the given set. */
  public boolean heldOutside(Set<String> nodeIds) {
    for (int i = 0; i < sessions.size(); i++) {
      if (!nodeIds.contains(sessions.get(i).nodeId())) {
        return true;
      }
    }
    return false;
  }

  public boolean hasEnded(String sessionId) {
    return ended.contains(sessionId);
  }

  public UserSessions with(SessionRef added, long newVersion) {
    List<SessionRef> next = new ArrayList<>(sessions);
    next.add(added);
    return new UserSessions(next, newVersion, ended);
  }

  /** Without the given sessions, which are remembered as ended. */
  public UserSessions without(Collection<SessionRef> removed, long newVersion) {
    List<SessionRef> next = new ArrayList<>(sessions);
    next.removeAll(removed);
    UserSessions left = new UserSessions(next, newVersion, ended);
    for (SessionRef s : removed) {
      left = left.endedToo(s.sessionId());
    }
    return left;
  }

  /** The same entry, also remembering that the given session ended. */
  public UserSessions endedToo(String sessionId) {
    if (ended.contains(sessionId)) {
      return this;
    }
    List<String> next = new ArrayList<>(ended);
    next.add(sessionId);
    while (next.size() > ENDED_KEPT) {
      next.remove(0);
    }
    return new UserSessions(sessions, version, next);
  }

  public UserSessions withVersion(long newVersion) {
    return new UserSessions(sessions, newVersion, ended);
  }

  public List<SessionRef> onNodesOtherThan(Set<String> liveNodes) {
    return sessions.stream().filter(s -> !liveNodes.contains(s.nodeId())).toList();
  }
}
