package chat.presence.store;

import chat.presence.store.Outcomes.Connected;
import chat.presence.store.Outcomes.Removed;
import com.hazelcast.map.EntryProcessor;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * The atomic changes of one user's entry. Hazelcast runs an entry processor on the partition
 * that owns the key, one at a time per key, so every transition of one user is applied in
 * order and no two racing events can both see the user offline (or online). The clock is
 * read by the caller and carried in the processor, so the backup replica computes exactly
 * the same value.
 */
final class SessionProcessors {

  private SessionProcessors() {
  }

  /** Adds a session, applying the login policy. */
  record Connect(SessionRef session, LoginPolicy policy, long now)
      implements EntryProcessor<Integer, UserSessions, Connected> {

    @Override
    public Connected process(Map.Entry<Integer, UserSessions> entry) {
      UserSessions current = entry.getValue();
      List<SessionRef> live = current == null ? List.of() : current.sessions();
      if (policy == LoginPolicy.REJECT && !live.isEmpty()) {
        return new Connected(true, false, current.version(), List.of());
      }
      List<SessionRef> replaced = policy == LoginPolicy.KICK ? live : List.of();
      boolean wentOnline = live.isEmpty();
      long version = wentOnline ? UserSessions.nextVersion(current, now) : current.version();
      UserSessions base = current == null ? new UserSessions(List.of(), version) : current;
      entry.setValue(base.without(replaced, version).with(session, version));
      return new Connected(false, wentOnline, version, replaced);
    }
  }

  /** Removes one session by id; does nothing if it is already gone. */
  record Disconnect(String sessionId, long now)
      implements EntryProcessor<Integer, UserSessions, Removed> {

    @Override
    public Removed process(Map.Entry<Integer, UserSessions> entry) {
      return removeWhere(entry, s -> s.sessionId().equals(sessionId), now);
    }
  }

  /** Removes every session held by a node that is not in {@code liveNodes}. */
  record DropNodes(Set<String> liveNodes, long now)
      implements EntryProcessor<Integer, UserSessions, Removed> {

    @Override
    public Removed process(Map.Entry<Integer, UserSessions> entry) {
      return removeWhere(entry, s -> !liveNodes.contains(s.nodeId()), now);
    }
  }

  /** Removes every session held by one node. */
  record DropNode(String nodeId, long now)
      implements EntryProcessor<Integer, UserSessions, Removed> {

    @Override
    public Removed process(Map.Entry<Integer, UserSessions> entry) {
      return removeWhere(entry, s -> s.nodeId().equals(nodeId), now);
    }
  }

  /**
   * For a user the database shows online: when the map has no session for them, stamps a new
   * offline version (so the database write wins over any older one and loses to any newer).
   * Returns -1 when the user does have a live session.
   */
  record StampOffline(long now) implements EntryProcessor<Integer, UserSessions, Long> {

    @Override
    public Long process(Map.Entry<Integer, UserSessions> entry) {
      UserSessions current = entry.getValue();
      if (current != null && current.online()) {
        return -1L;
      }
      long version = UserSessions.nextVersion(current, now);
      entry.setValue(new UserSessions(List.of(), version));
      return version;
    }
  }

  /** Deletes tombstones (entries with no session) whose last transition is older than a limit. */
  record ForgetTombstones(long olderThanMillis) implements EntryProcessor<Integer, UserSessions, Boolean> {

    @Override
    public Boolean process(Map.Entry<Integer, UserSessions> entry) {
      UserSessions current = entry.getValue();
      if (current != null && !current.online() && current.version() < olderThanMillis * 1000) {
        entry.setValue(null);
        return true;
      }
      return false;
    }
  }

  /** Removes the user's sessions that match; the last one gone is the offline transition. */
  private static Removed removeWhere(Map.Entry<Integer, UserSessions> entry,
                                     Predicate<SessionRef> matches, long now) {
    UserSessions current = entry.getValue();
    if (current == null) {
      return new Removed(0, false, 0);
    }
    List<SessionRef> gone = current.sessions().stream().filter(matches).toList();
    if (gone.isEmpty()) {
      return new Removed(0, false, current.version());
    }
    UserSessions left = current.without(gone, current.version());
    if (left.online()) {
      entry.setValue(left);
      return new Removed(gone.size(), false, current.version());
    }
    long version = UserSessions.nextVersion(current, now);
    entry.setValue(new UserSessions(List.of(), version));
    return new Removed(gone.size(), true, version);
  }
}
