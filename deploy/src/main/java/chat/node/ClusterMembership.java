package chat.node;

import chat.gateway.CloseReason;
import chat.gateway.node.GatewayService;
import chat.protocol.wire.Replies;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.LifecycleEvent;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's membership of the cluster and what it does when it loses it: a node the cluster
 * declared dead (it stood still), a node on the minority side of a cut
 * (CHAT_CLUSTER_QUORUM), and a node that merges back after a cut. It owns the pause detector
 * and the quorum watch from the moment the node is up.
 */
final class ClusterMembership {

  private static final Logger LOG = LoggerFactory.getLogger(ClusterMembership.class);

  private final String nodeName;
  private final HazelcastInstance hazelcast;
  private final PauseDetector pauses;
  private final QuorumWatch quorum;
  private final GatewayService gateway;

  /**
   * @param quorum null without CHAT_CLUSTER_QUORUM
   * @param gateway null on a node without the gateway role
   */
  ClusterMembership(String nodeName, HazelcastInstance hazelcast, PauseDetector pauses,
                    QuorumWatch quorum, GatewayService gateway) {
    this.nodeName = nodeName;
    this.hazelcast = hazelcast;
    this.pauses = pauses;
    this.quorum = quorum;
    this.gateway = gateway;
  }

  /**
   * A node cut off from the others (without pausing) that finds the cluster again must not
   * bring its sessions back either: when it merges into the other side it closes every
   * client, and the online map's merge policy discards what it held.
   */
  void watchForSplit() {
    hazelcast.getLifecycleService().addLifecycleListener(event -> {
      if (event.getState() == LifecycleEvent.LifecycleState.MERGING && gateway != null) {
        LOG.warn("node {} was cut off from the cluster and is rejoining: closing all clients",
            nodeName);
        gateway.sessions().abandonAll(CloseReason.SERVER_CLOSING, Replies.serverClosing(1000));
      } else if (event.getState() == LifecycleEvent.LifecycleState.MERGED && gateway != null) {
        gateway.sessions().reopen();
      }
    });
  }

  /**
   * Calls {@code action} when this node has (very likely) been declared dead by the cluster,
   * so the other members have removed it and its sessions: it stood still for
   * {@link ClusterSetup#detectorSeconds} − 1 s or more. The others heard nothing for the pause
   * plus up to one heartbeat interval (1 s) before it began. (At − 0.5 s a node frozen 2.3 s
   * under load had been removed and did not restart: it stayed a stale one-member cluster.)
   *
   * <p>First, at once, this node's Hazelcast member is terminated. Its view is stale: it may
   * still list the members that removed it, so to the survivors it looks like a cluster at
   * least as large as theirs, and their split-brain handling would merge the live side into
   * it (seen within a second of a thaw: a survivor of two nodes merged into the thawed one
   * and closed all its own clients). A member that no longer answers cannot be merged into.
   */
  void onDeclaredDead(long nodeLossSeconds, Runnable action) {
    long thresholdMs = ClusterSetup.detectorSeconds(nodeLossSeconds) * 1000L - 1000;
    pauses.onPause(gapMs -> {
      if (gapMs >= thresholdMs) {
        LOG.warn("node {} stood still for {} ms: the cluster has declared it dead; leaving it"
            + " at once", nodeName, gapMs);
        try {
          hazelcast.getLifecycleService().terminate();
        } catch (RuntimeException e) {
          LOG.warn("node {}: terminating its stale cluster member failed: {}", nodeName,
              e.toString());
        }
        action.run();
      }
    });
  }

  /** See {@link ChatNode#onQuorumLost}. */
  void onQuorumLost(Runnable action) {
    if (quorum != null) {
      quorum.onLost(action);
    }
  }

  /** See {@link ChatNode#hasQuorum}. */
  boolean hasQuorum() {
    return quorum == null || quorum.present();
  }

  /**
   * Leaves the cluster as a node the cluster declared dead: every client gets SERVER_CLOSING
   * and is closed without reporting its end (the cluster already removed these sessions, and
   * this node's view of the map is stale), then the watches stop and Vert.x (with its
   * Hazelcast member) closes. Blocking.
   */
  void leave(Vertx vertx) {
    if (gateway != null) {
      gateway.sessions().abandonAll(CloseReason.SERVER_CLOSING,
          Replies.serverClosing(1000)).await();
    }
    if (quorum != null) {
      quorum.close();
    }
    vertx.close().await();
    pauses.close();
  }

  /** Stops the watches (after the node's services have stopped). */
  void close() {
    pauses.close();
    if (quorum != null) {
      quorum.close();
    }
  }
}
