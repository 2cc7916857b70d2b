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

  /** See {@link ChatNode#onDeclaredDead}. */
  void onDeclaredDead(long nodeLossSeconds, Runnable action) {
    pauses.onPause(gapMs -> {
      if (gapMs >= ClusterSetup.detectorSeconds(nodeLossSeconds) * 1000L - 500) {
        LOG.warn("node {} stood still for {} ms: the cluster has declared it dead", nodeName,
            gapMs);
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
