package chat.presence.reaper;

import chat.presence.PresenceConfig;
import chat.presence.PresenceMetrics;
import chat.presence.PresenceService;
import chat.presence.mirror.MirrorPool;
import chat.presence.mirror.StateMirror;
import chat.presence.notify.Transitions;
import chat.presence.store.HazelcastPresenceStore;
import chat.presence.store.Outcomes.Removed;
import chat.presence.store.PresenceStore;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.HazelcastInstance;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.sqlclient.Pool;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the online map and the database free of ghosts:
 * <ul>
 *   <li>when a member leaves the cluster (killed, frozen past the failure detector, cut off),
 *   every session it held is removed at once, and again by a periodic sweep that compares the
 *   sessions' nodes with the current members, so a missed event is caught too;</li>
 *   <li>at start-up, and then periodically, every row the database shows 'online' without a
 *   live session in the map is set 'offline' (after a whole-cluster crash, this is every
 *   such row, before the node reports ready);</li>
 *   <li>old tombstones are forgotten.</li>
 * </ul>
 * Each removal is an atomic step on the user's entry: when several members sweep at once,
 * exactly one of them sees a given session go, so each offline transition is reported once.
 */
public final class ReaperVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(ReaperVerticle.class);

  private final PresenceConfig config;
  private final HazelcastInstance hazelcast;
  private final PauseDetector pauses;
  private PresenceStore store;
  private Transitions transitions;
  private Pool pool;
  private UUID membershipRegistration;
  private boolean sweeping;

  public ReaperVerticle(PresenceConfig config, HazelcastInstance hazelcast, PauseDetector pauses) {
    this.config = config;
    this.hazelcast = hazelcast;
    this.pauses = pauses;
  }

  @Override
  public Future<?> start() {
    store = new HazelcastPresenceStore(vertx, hazelcast);
    pool = MirrorPool.create(vertx, "presence-reaper", config.dbUrl(), 2);
    transitions = new Transitions(vertx.eventBus(), store, new StateMirror(vertx, pool),
        config.requestTimeoutMs());
    Context context = vertx.getOrCreateContext();
    membershipRegistration = hazelcast.getCluster().addMembershipListener(new MembershipListener() {
      @Override
      public void memberAdded(MembershipEvent event) {
      }

      @Override
      public void memberRemoved(MembershipEvent event) {
        LOG.warn("cluster member {} (node {}) left; removing its sessions",
            event.getMember().getUuid(), event.getMember().getAttribute(PresenceService.NODE_ATTRIBUTE));
        context.runOnContext(v -> sweep());
      }
    });
    // Ready only once no row shows a user online without a live session.
    return sweepOnce()
        .compose(v -> reconcileOnce())
        .onSuccess(v -> {
          vertx.setPeriodic(config.sweepIntervalMs(), t -> sweep());
          vertx.setPeriodic(config.reconcileIntervalMs(), t -> reconcile());
          vertx.setPeriodic(config.tombstoneAgeMs(), t -> forgetTombstones());
        });
  }

  @Override
  public Future<?> stop() {
    if (membershipRegistration != null) {
      try {
        hazelcast.getCluster().removeMembershipListener(membershipRegistration);
      } catch (RuntimeException e) {
        LOG.debug("membership listener not removed: {}", e.getMessage());
      }
    }
    return pool == null ? Future.succeededFuture() : pool.close();
  }

  private void sweep() {
    if (sweeping) {
      return;
    }
    if (pauses.recentlyPaused()) {
      // This process was frozen: the others declared it dead, not the other way round.
      LOG.warn("not removing sessions of other nodes: this node was paused and is rejoining");
      return;
    }
    sweeping = true;
    sweepOnce()
        .onFailure(err -> LOG.warn("sweep of departed nodes failed: {}", err.getMessage()))
        .onComplete(ar -> sweeping = false);
  }

  private Future<Void> sweepOnce() {
    Set<String> live = hazelcast.getCluster().getMembers().stream()
        .map(member -> member.getAttribute(PresenceService.NODE_ATTRIBUTE))
        .filter(Objects::nonNull)
        .collect(Collectors.toSet());
    return store.dropNodesOtherThan(live).map(changes -> {
      report(changes);
      PresenceMetrics.current().swept(changes.size());
      if (!changes.isEmpty()) {
        LOG.info("removed the sessions of {} users held by departed nodes", changes.size());
      }
      return null;
    });
  }

  private void report(Map<Integer, Removed> changes) {
    changes.forEach((userId, removed) -> {
      if (removed.wentOffline()) {
        transitions.transitioned(userId, false, removed.version());
      }
    });
  }

  private void reconcile() {
    if (pauses.recentlyPaused()) {
      return;
    }
    reconcileOnce()
        .onFailure(err -> LOG.warn("reconciliation with the database failed: {}", err.getMessage()));
  }

  /** Sets 'offline' every row shown 'online' whose user has no live session. */
  private Future<Void> reconcileOnce() {
    StateMirror mirror = transitions.mirror();
    return mirror.onlineInDatabase()
        .compose(store::stampOffline)
        .compose(stamped -> {
          PresenceMetrics.current().repaired(stamped.size());
          if (!stamped.isEmpty()) {
            LOG.info("{} users shown online in the database had no live session: set offline",
                stamped.size());
          }
          List<Future<Void>> writes = new ArrayList<>();
          stamped.forEach((userId, version) -> writes.add(mirror.write(userId, false, version)));
          return Future.all(writes).mapEmpty();
        });
  }

  private void forgetTombstones() {
    store.forgetTombstones(config.tombstoneAgeMs())
        .onFailure(err -> LOG.debug("tombstone clean-up failed: {}", err.getMessage()));
  }
}
