package chat.node;

import com.hazelcast.cluster.Member;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.splitbrainprotection.HeartbeatAware;
import com.hazelcast.splitbrainprotection.SplitBrainProtectionFunction;
import java.util.Collection;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The quorum rule: a side of a cut has a quorum when at least {@code quorum} members, this
 * one included, were heard from (a cluster heartbeat arrived) within the tolerance.
 *
 * <p>Like Hazelcast's recently-active function, but timed with this process's monotonic
 * clock when each heartbeat arrives, never with the sender's wall clock (a member whose
 * clock is off must not count as silent), and readable at any moment: Hazelcast evaluates a
 * protection function only on cluster events, while {@link QuorumWatch} asks every 100 ms,
 * so the minority side stops serving once its peers have been silent for the tolerance,
 * before the majority's failure detector removes it.
 */
final class RecentHeartbeats implements SplitBrainProtectionFunction, HeartbeatAware,
    MembershipListener {

  private final int quorum;
  private final long toleranceNanos;
  private final Map<UUID, Long> lastHeard = new ConcurrentHashMap<>();

  RecentHeartbeats(int quorum, long toleranceMs) {
    this.quorum = quorum;
    this.toleranceNanos = toleranceMs * 1_000_000;
  }

  int quorum() {
    return quorum;
  }

  @Override
  public boolean apply(Collection<Member> members) {
    return heard(members) >= quorum;
  }

  /** How many of these members (this one always) were heard from within the tolerance. */
  int heard(Collection<Member> members) {
    long now = System.nanoTime();
    int count = 0;
    for (Member member : members) {
      Long last = lastHeard.get(member.getUuid());
      if (member.localMember() || (last != null && now - last < toleranceNanos)) {
        count++;
      }
    }
    return count;
  }

  @Override
  public void onHeartbeat(Member member, long timestamp) {
    lastHeard.put(member.getUuid(), System.nanoTime());
  }

  @Override
  public void memberAdded(MembershipEvent event) {
    // heard from when its first heartbeat arrives
  }

  @Override
  public void memberRemoved(MembershipEvent event) {
    lastHeard.remove(event.getMember().getUuid());
  }
}
