package chat.node;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.partition.PartitionService;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node that has just joined takes clients only once the cluster's partitions are safe: every
 * partition has its owner and its backup in sync and no migration is in flight.
 *
 * <p>Why: a member that dies while partitions still migrate to it can take map entries with it,
 * and the survivors' node-loss sweep then waits for Hazelcast to repair the partition table
 * (seconds after "Migration commit failed") before it can find that member's sessions. A node
 * that takes no clients before its partitions settle has no sessions in that window, and once
 * it has sessions a loss is swept from what the survivors already hold (the backups).
 *
 * <p>The wait is bounded ({@link #BOUND}): a cluster that never becomes safe (a member that
 * keeps failing) must not keep this node from serving; the node logs that it starts anyway.
 */
final class PartitionSafety {

  private static final Logger LOG = LoggerFactory.getLogger(PartitionSafety.class);
  static final Duration BOUND = Duration.ofSeconds(30);
  private static final long POLL_MS = 100;

  private PartitionSafety() {
  }

  /** Blocks (not on an event loop) until the partitions are safe or {@link #BOUND} passed. */
  static void await(HazelcastInstance hazelcast, String nodeName) {
    PartitionService partitions = hazelcast.getPartitionService();
    long started = System.nanoTime();
    long deadline = started + BOUND.toNanos();
    while (true) {
      boolean safe;
      try {
        safe = partitions.isClusterSafe();
      } catch (RuntimeException e) {
        LOG.debug("node {}: partition safety check failed: {}", nodeName, e.toString());
        safe = false;
      }
      long waitedMs = (System.nanoTime() - started) / 1_000_000;
      if (safe) {
        LOG.info("node {}: cluster partitions safe after {} ms", nodeName, waitedMs);
        return;
      }
      if (System.nanoTime() > deadline) {
        LOG.warn("node {}: cluster partitions still migrating after {} ms; taking clients anyway",
            nodeName, waitedMs);
        return;
      }
      try {
        Thread.sleep(POLL_MS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }
}
