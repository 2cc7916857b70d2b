package chat.presence.reaper;

import com.hazelcast.cluster.Member;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.instance.impl.HazelcastInstanceProxy;
import com.hazelcast.internal.cluster.impl.ClusterHeartbeatManager;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * When each member was last heard from (its last heartbeat), sampled so that it is still
 * known once the member is gone: the start of the measured node-loss path. Reads Hazelcast's
 * own heartbeat bookkeeping; if that is unavailable, nothing is known and the path is
 * measured from the detection.
 */
final class LastHeard {

  private final ClusterHeartbeatManager heartbeats;
  private final HazelcastInstance hazelcast;
  private final Map<UUID, Long> lastHeard = new ConcurrentHashMap<>();

  LastHeard(HazelcastInstance hazelcast) {
    this.hazelcast = hazelcast;
    ClusterHeartbeatManager manager = null;
    try {
      if (hazelcast instanceof HazelcastInstanceProxy proxy) {
        manager = proxy.getOriginal().node.getClusterService().getClusterHeartbeatManager();
      }
    } catch (RuntimeException | LinkageError e) {
      manager = null;
    }
    this.heartbeats = manager;
  }

  /** Records the current heartbeat times of the members. */
  void sample() {
    if (heartbeats == null) {
      return;
    }
    for (Member member : hazelcast.getCluster().getMembers()) {
      if (!member.localMember()) {
        long at = heartbeats.getLastHeartbeatTime(member);
        if (at > 0) {
          lastHeard.put(member.getUuid(), at);
        }
      }
    }
  }

  /**
   * How long ago (ms) the most recently heard of the other members sent its last heartbeat:
   * -1 when there is no other member or nothing is known.
   */
  long quietestPeerSilenceMs() {
    if (heartbeats == null) {
      return -1;
    }
    long now = System.currentTimeMillis();
    long least = -1;
    for (Member member : hazelcast.getCluster().getMembers()) {
      if (!member.localMember()) {
        long at = heartbeats.getLastHeartbeatTime(member);
        if (at <= 0) {
          return -1;
        }
        long silent = Math.max(0, now - at);
        least = least < 0 ? silent : Math.min(least, silent);
      }
    }
    return least;
  }

  /** Epoch millis of the member's last heartbeat seen, or -1; forgets the member. */
  long forget(UUID member) {
    Long at = lastHeard.remove(member);
    return at == null ? -1 : at;
  }
}
