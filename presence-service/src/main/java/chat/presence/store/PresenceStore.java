package chat.presence.store;

import chat.presence.store.Outcomes.Aligned;
import chat.presence.store.Outcomes.Connected;
import chat.presence.store.Outcomes.Removed;
import chat.presence.store.Outcomes.Restored;
import chat.protocol.bus.LoginPolicy;
import io.vertx.core.Future;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The cluster-wide online map: user id → live sessions. Every change is atomic per user. */
public interface PresenceStore {

  /** Adds a session (seeding the user's version counter from the database when needed). */
  Future<Connected> connect(int userId, SessionRef session, LoginPolicy policy);

  /** Removes one session; tolerates an end that arrives before its connect. */
  Future<Removed> disconnect(int userId, String sessionId);

  /** Removes every session of one node (cluster-wide); returns the changes that removed something. */
  Future<Map<Integer, Removed>> dropNode(String nodeId);

  /**
   * Removes, among the entries this member owns, every session held by a node that is not
   * one of {@code liveNodes}. Needs nothing from other members, so it does not wait for
   * partitions to migrate after a member left.
   */
  Future<Map<Integer, Removed>> dropLocalOutside(Set<String> liveNodes);

  /**
   * Among the entries this member owns, removes the sessions of {@code nodeId} numbered up to
   * {@code upTo} that are not in {@code held} (user id → session ids the node holds).
   */
  Future<Map<Integer, Removed>> removeLocalStale(String nodeId, long upTo,
                                                 Map<Integer, Set<String>> held);

  /** Puts back sessions a gateway holds that the map lacks (see {@link Restored}). */
  Future<Restored> restore(int userId, List<SessionRef> sessions);

  /**
   * Of the given users whose entries this member owns, those whose entry lacks one of the
   * given sessions or who have no entry: one local query over this member's entries, each
   * looked at in place (no copy of each value, as reading every entry made).
   */
  Future<Set<Integer>> lackingLocal(Map<Integer, List<SessionRef>> sessions);

  /** The entries of the given users (absent: never seen). */
  Future<Map<Integer, UserSessions>> read(Set<Integer> userIds);

  /** The live sessions of each given user that is online; offline users are absent. */
  Future<Map<Integer, List<SessionRef>>> locate(Set<Integer> userIds);

  /**
   * Compares database rows (user id → online, version) with the entries; returns the rows to
   * write (only those that are wrong).
   */
  Future<Map<Integer, Aligned>> align(Map<Integer, Row> rows);

  /** Whether this member owns the user's entry. */
  boolean ownedHere(int userId);

  /**
   * How many users the entries this member owns show online (summed over the members: the
   * users the whole cluster shows online). A local scan, off the event loop.
   */
  Future<Integer> countLocalOnline();

  /** One database row's presence columns. */
  record Row(boolean online, long version) {
  }
}
