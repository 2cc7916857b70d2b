package chat.node;

import com.hazelcast.cluster.Cluster;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.LifecycleEvent.LifecycleState;
import com.hazelcast.splitbrainprotection.SplitBrainProtection;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The split-brain rule of a node started with CHAT_CLUSTER_QUORUM: a node that sees fewer
 * members than the quorum is on the minority side of a cut, and must neither serve clients
 * nor mark anyone offline.
 *
 * <ul>
 *   <li>At start-up (and at each rejoin) the node waits here, before any service is deployed,
 *   until the cluster it joined holds a quorum: a node cut off from the others never serves
 *   and never sweeps, and its ports stay closed (not ready).</li>
 *   <li>Then a watcher thread counts every {@value #TICK_MS} ms the members heard from
 *   recently ({@link RecentHeartbeats}: within one second less than the failure detector
 *   allows); when they fall below the quorum (that long after the cut, a second or more before the
 *   majority's failure detector removes this node) the {@code onLost} action runs once: the
 *   node closes
 *   its clients with SERVER_CLOSING, leaves, and starts again as a new member that waits
 *   here for the cut to heal.</li>
 *   <li>Meanwhile the online map itself is guarded by Hazelcast's split-brain protection
 *   ({@link ClusterSetup#QUORUM_NAME}, counting only members heard from recently): a sweep
 *   or repair attempted on the minority side in the moment before the watcher acts fails
 *   instead of removing the other side's sessions.</li>
 * </ul>
 */
final class QuorumWatch implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(QuorumWatch.class);
  private static final long TICK_MS = 100;
  private static final long LOG_EVERY_MS = 5_000;

  private final HazelcastInstance hazelcast;
  private final RecentHeartbeats rule;
  private final int quorum;
  private final String nodeName;
  private final AtomicBoolean merged = new AtomicBoolean();
  private final UUID lifecycleRegistration;
  private volatile boolean running = true;
  private volatile Thread watcher;

  QuorumWatch(HazelcastInstance hazelcast, RecentHeartbeats rule, String nodeName) {
    this.hazelcast = hazelcast;
    this.rule = rule;
    this.quorum = rule.quorum();
    this.nodeName = nodeName;
    this.lifecycleRegistration = hazelcast.getLifecycleService().addLifecycleListener(event -> {
      if (event.getState() == LifecycleState.MERGING) {
        merged.set(true);
      }
    });
  }

  /** The members this node sees now. */
  int members() {
    Cluster cluster = hazelcast.getCluster();
    return cluster.getMembers().size();
  }

  /** The members (this one included) heard from within the quorum rule's tolerance. */
  int heard() {
    return rule.heard(hazelcast.getCluster().getMembers());
  }

  /**
   * True while this node hears from a quorum of members, and Hazelcast's split-brain
   * protection lets the online map be used. Suitable as the presence reaper's "may sweep"
   * check.
   */
  boolean present() {
    try {
      return running && heard() >= quorum && protection().hasMinimumSize();
    } catch (RuntimeException e) {
      return false;
    }
  }

  /**
   * Blocks until this node is in a cluster that holds a quorum. Returns false if, while
   * waiting, this member was merged into another cluster after a cut healed: its cluster
   * state is then not to be trusted, and the node starts again as a new member, which now
   * joins the healed cluster normally.
   */
  boolean awaitQuorum() {
    long lastLog = 0;
    while (running) {
      if (merged.get()) {
        LOG.warn("node {} was merged into the cluster while waiting for a quorum: rejoining as a"
            + " new member", nodeName);
        return false;
      }
      if (present()) {
        LOG.info("node {} sees a quorum: {} members, {} needed", nodeName, members(), quorum);
        return true;
      }
      long now = System.nanoTime() / 1_000_000;
      if (now - lastLog >= LOG_EVERY_MS) {
        lastLog = now;
        LOG.warn("node {} waits for a quorum before serving: {} of {} members", nodeName,
            safeMembers(), quorum);
      }
      sleep();
    }
    return false;
  }

  /**
   * Runs {@code onLost} once, on a watcher thread, when this node sees fewer members than the
   * quorum (or is merged into another cluster).
   */
  void onLost(Runnable onLost) {
    Thread thread = new Thread(() -> {
      while (running) {
        sleep();
        if (!running) {
          return;
        }
        int heard = safeHeard();
        if (heard < quorum || merged.get()) {
          LOG.warn("node {} lost the quorum: it hears from {} of {} members needed ({} listed);"
              + " it stops serving and waits for the cut to heal", nodeName, heard, quorum,
              safeMembers());
          running = false;
          onLost.run();
          return;
        }
      }
    }, "chat-quorum-watch");
    thread.setDaemon(true);
    watcher = thread;
    thread.start();
  }

  private int safeHeard() {
    try {
      return heard();
    } catch (RuntimeException e) {
      return 0;
    }
  }

  private int safeMembers() {
    try {
      return members();
    } catch (RuntimeException e) {
      return 0;
    }
  }

  private SplitBrainProtection protection() {
    return hazelcast.getSplitBrainProtectionService()
        .getSplitBrainProtection(ClusterSetup.QUORUM_NAME);
  }

  private static void sleep() {
    try {
      Thread.sleep(TICK_MS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    running = false;
    Thread thread = watcher;
    if (thread != null && thread != Thread.currentThread()) {
      thread.interrupt();
    }
    try {
      hazelcast.getLifecycleService().removeLifecycleListener(lifecycleRegistration);
    } catch (RuntimeException e) {
      LOG.debug("lifecycle listener not removed: {}", e.getMessage());
    }
  }
}
