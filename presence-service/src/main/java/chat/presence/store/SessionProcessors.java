package chat.presence.store;

import chat.presence.store.Outcomes.Aligned;
import chat.presence.store.Outcomes.Connected;
import chat.presence.store.Outcomes.Removed;
import chat.presence.store.Outcomes.Restored;
import chat.protocol.bus.LoginPolicy;
import com.hazelcast.map.EntryProcessor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * The atomic changes of one user's entry. Hazelcast runs an entry processor on the partition
 * that owns the key, one at a time per key, so every transition of one user is applied in
 * order and no two racing events can both see the user offline (or online). No processor
 * reads a clock: versions are counters (see {@link UserSessions}), so the backup replica
 * computes exactly the same entry as the owner.
 */
final class SessionProcessors {

  private SessionProcessors() {
  }

  /**
   * Adds a session, applying the login policy. {@code floor} is the database row's version
   * when the caller read it (-1 otherwise); an entry that was never seeded needs it.
   */
  record Connect(SessionRef session, LoginPolicy policy, long floor)
      implements EntryProcessor<Integer, UserSessions, Connected> {

    @Override
    public Connected process(Map.Entry<Integer, UserSessions> entry) {
      UserSessions current = entry.getValue();
      if (current != null && current.hasEnded(session.sessionId())) {
        return new Connected(false, false, current.version(), List.of(), true, false);
      }
      if (current != null && current.holds(session.sessionId())) {
        // A retried connect: it was applied already.
        return new Connected(false, false, current.version(), List.of(), false, false);
      }
      if ((current == null || !current.seeded()) && floor < 0) {
        return Connected.seedFirst();
      }
      List<SessionRef> live = current == null ? List.of() : current.sessions();
      if (policy == LoginPolicy.KICK && live.stream().anyMatch(this::newerOnTheSameNode)) {
        // A login of this node that came after this one already replaced whatever was
        // there: this connect arrived late (its login may even be over). Kicking the newer
        // session would undo the later login; nothing is added, as for an abandoned login.
        return new Connected(false, false, current.version(), List.of(), true, false);
      }
      if (policy == LoginPolicy.REJECT && !live.isEmpty()) {
        return new Connected(true, false, current.version(), List.of(), false, false);
      }
      List<SessionRef> replaced = policy == LoginPolicy.KICK ? live : List.of();
      boolean wentOnline = live.isEmpty();
      long version = wentOnline ? UserSessions.nextVersion(current, floor)
          : Math.max(current.version(), floor);
      UserSessions base = current == null
          ? new UserSessions(List.of(), version, List.of()) : current;
      entry.setValue(base.without(replaced, version).with(session, version));
      return new Connected(false, wentOnline, version, replaced, false, false);
    }

    /**
     * A session its node connected after this one: the same node numbers its connects in
     * order. A session put back from a digest ({@code since} 0) carries the digest's number,
     * an upper bound rather than its own, and proves nothing.
     */
    private boolean newerOnTheSameNode(SessionRef other) {
      return other.nodeId().equals(session.nodeId()) && other.since() != 0
          && other.seq() > session.seq();
    }
  }

  /**
   * Removes one session by id. A session not (yet) in the entry is remembered as ended, so
   * a connect that arrives after its end adds nothing.
   */
  record Disconnect(String sessionId) implements EntryProcessor<Integer, UserSessions, Removed> {

    @Override
    public Removed process(Map.Entry<Integer, UserSessions> entry) {
      UserSessions current = entry.getValue();
      if (current == null || !current.holds(sessionId)) {
        UserSessions base = current != null ? current
            : new UserSessions(List.of(), UserSessions.UNSEEDED, List.of());
        entry.setValue(base.endedToo(sessionId));
        return new Removed(0, false, UserSessions.visibleVersion(current), null);
      }
      return removeWhere(entry, s -> s.sessionId().equals(sessionId));
    }
  }

  /** Removes every session held by a node that is not in {@code liveNodes}. */
  record DropNodes(Set<String> liveNodes) implements EntryProcessor<Integer, UserSessions, Removed> {

    @Override
    public Removed process(Map.Entry<Integer, UserSessions> entry) {
      return removeWhere(entry, s -> !liveNodes.contains(s.nodeId()));
    }
  }

  /** Removes every session held by one node. */
  record DropNode(String nodeId) implements EntryProcessor<Integer, UserSessions, Removed> {

    @Override
    public Removed process(Map.Entry<Integer, UserSessions> entry) {
      return removeWhere(entry, s -> s.nodeId().equals(nodeId));
    }
  }

  /**
   * Removes the sessions of one node that its digest no longer lists: numbered up to the
   * digest's {@code upTo} (a later one may have connected after the digest was taken) and not
   * among {@code held}, the sessions the node holds for this user.
   */
  record RemoveStale(String nodeId, long upTo, Set<String> held)
      implements EntryProcessor<Integer, UserSessions, Removed> {

    @Override
    public Removed process(Map.Entry<Integer, UserSessions> entry) {
      return removeWhere(entry, s -> isStale(s, nodeId, upTo, held));
    }
  }

  static boolean isStale(SessionRef s, String nodeId, long upTo, Set<String> held) {
    return s.nodeId().equals(nodeId) && s.seq() <= upTo && !held.contains(s.sessionId());
  }

  /**
   * Puts back sessions a gateway holds (its digest lists them as logged in) that the map
   * lacks. A session the map ended (kicked, its node swept) is not put back: the gateway is
   * told to close it.
   */
  record Restore(List<SessionRef> sessions, long floor)
      implements EntryProcessor<Integer, UserSessions, Restored> {

    @Override
    public Restored process(Map.Entry<Integer, UserSessions> entry) {
      UserSessions current = entry.getValue();
      List<SessionRef> missing = new ArrayList<>();
      List<String> toClose = new ArrayList<>();
      for (SessionRef s : sessions) {
        if (current != null && current.hasEnded(s.sessionId())) {
          toClose.add(s.sessionId());
        } else if (current == null || !current.holds(s.sessionId())) {
          missing.add(s);
        }
      }
      long known = current == null ? UserSessions.UNSEEDED : current.version();
      if (missing.isEmpty()) {
        return new Restored(0, false, known, toClose, false);
      }
      if ((current == null || !current.seeded()) && floor < 0) {
        return new Restored(0, false, known, List.of(), true);
      }
      boolean wentOnline = current == null || !current.online();
      long version = wentOnline ? UserSessions.nextVersion(current, floor)
          : Math.max(current.version(), floor);
      UserSessions next = current == null
          ? new UserSessions(List.of(), version, List.of()) : current.withVersion(version);
      for (SessionRef s : missing) {
        next = next.with(s, version);
      }
      entry.setValue(next);
      return new Restored(missing.size(), wentOnline, version, toClose, false);
    }
  }

  /**
   * Compares a user's database row ({@code rowOnline} at {@code rowVersion}) with the entry
   * and says what the row must become: the entry is the truth for the state; the version
   * moves above the row's when the row is ahead (the entry was lost, or never seeded), so the
   * write lands and every later transition is newer still. An entry with a newer version than
   * the row is written again as it is (its own write was lost or is still on its way).
   */
  record Align(boolean rowOnline, long rowVersion)
      implements EntryProcessor<Integer, UserSessions, Aligned> {

    @Override
    public Aligned process(Map.Entry<Integer, UserSessions> entry) {
      UserSessions current = entry.getValue();
      boolean online = current != null && current.online();
      long version = current == null ? UserSessions.UNSEEDED : current.version();
      if (online == rowOnline) {
        if (version < rowVersion) {
          // Same state: only the counter learns the row's version.
          UserSessions base = current != null ? current
              : new UserSessions(List.of(), rowVersion, List.of());
          entry.setValue(base.withVersion(rowVersion));
        }
        return Aligned.NOTHING;
      }
      if (version > rowVersion) {
        return new Aligned(true, online, version);
      }
      long next = Math.max(version, rowVersion) + 1;
      UserSessions base = current != null ? current
          : new UserSessions(List.of(), next, List.of());
      entry.setValue(base.withVersion(next));
      return new Aligned(true, online, next);
    }
  }

  /**
   * {@link Align} for many users at once, each entry with its own row: one operation per
   * partition instead of one invocation per user. Answers {@code null} (no result) for an
   * entry whose row needs no write, so only the writes come back.
   */
  record AlignRows(Map<Integer, PresenceStore.Row> rows)
      implements EntryProcessor<Integer, UserSessions, Aligned> {

    @Override
    public Aligned process(Map.Entry<Integer, UserSessions> entry) {
      PresenceStore.Row row = rows.get(entry.getKey());
      if (row == null) {
        return null;
      }
      Aligned aligned = new Align(row.online(), row.version()).process(entry);
      return aligned.write() ? aligned : null;
    }
  }

  /** Removes the user's sessions that match; the last one gone is the offline transition. */
  private static Removed removeWhere(Map.Entry<Integer, UserSessions> entry,
                                     Predicate<SessionRef> matches) {
    UserSessions current = entry.getValue();
    if (current == null) {
      return new Removed(0, false, 0, null);
    }
    List<SessionRef> gone = current.sessions().stream().filter(matches).toList();
    if (gone.isEmpty()) {
      return new Removed(0, false, UserSessions.visibleVersion(current), null);
    }
    boolean wentOffline = gone.size() == current.sessions().size();
    long version = wentOffline ? UserSessions.nextVersion(current, -1) : current.version();
    entry.setValue(current.without(gone, version));
    return new Removed(gone.size(), wentOffline, version, gone.get(gone.size() - 1).nodeId());
  }
}
