package chat.presence.store;

import chat.presence.store.Outcomes.Connected;
import chat.presence.store.Outcomes.Removed;
import io.vertx.core.Future;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The cluster-wide online map: user id → live sessions. Every change is atomic per user. */
public interface PresenceStore {

  Future<Connected> connect(int userId, SessionRef session, LoginPolicy policy);

  Future<Removed> disconnect(int userId, String sessionId);

  /** Removes every session of one node; returns the changes that removed something. */
  Future<Map<Integer, Removed>> dropNode(String nodeId);

  /** Removes every session held by a node that is not one of {@code liveNodes}. */
  Future<Map<Integer, Removed>> dropNodesOtherThan(Set<String> liveNodes);

  /** The live sessions of each given user that is online; offline users are absent. */
  Future<Map<Integer, List<SessionRef>>> locate(Set<Integer> userIds);

  /**
   * For users the database shows online: stamps an offline version for each one without a
   * live session and returns those versions.
   */
  Future<Map<Integer, Long>> stampOffline(Set<Integer> userIds);

  /** Forgets the versions of users offline for longer than {@code ageMillis}. */
  Future<Integer> forgetTombstones(long ageMillis);
}
