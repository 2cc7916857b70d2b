package chat.presence.reaper;

import chat.presence.config.PresenceConfig;
import chat.presence.metrics.PresenceMetrics;
import chat.presence.mirror.MirrorPool;
import chat.presence.mirror.StateMirror;
import chat.presence.notify.Transitions;
import chat.presence.store.HazelcastPresenceStore;
import chat.presence.store.Outcomes.Removed;
import chat.presence.store.PresenceStore;
import chat.protocol.bus.Addresses;
import com.hazelcast.cluster.Member;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.partition.MigrationListener;
import com.hazelcast.partition.MigrationState;
import com.hazelcast.partition.ReplicaMigrationEvent;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the three views of presence — the connections the gateways hold, the online map and
 * the {@code user.state} rows — in agreement:
 * <ul>
 *   <li><b>node loss</b>: when a member leaves (killed, frozen past the failure detector, cut
 *   off), each survivor removes, among the entries it owns, every session held by a node that
 *   is no longer a member — at once, and again shortly after (entries whose owner was the
 *   departed member are promoted to a survivor from their backup), then every
 *   {@code sweepIntervalMs}. It needs no other member's answer, so it never waits for
 *   partitions to migrate. The path is logged with its parts;</li>
 *   <li><b>digests</b>: each gateway's list of the sessions it holds repairs the map both ways
 *   ({@link DigestRepair});</li>
 *   <li><b>the database</b>: the oldest member reconciles the rows both ways
 *   ({@link DbReconciler}), at start-up before this node is ready, then every repair round.</li>
 * </ul>
 * Nothing here runs while {@code maySweep} says no (this side of a split lost its quorum) or
 * while this process has just woken from a pause. Blocking scans run on the
 * {@value PresenceConfig#REPAIR_POOL} pool, never the default worker pool.
 */
public final class ReaperVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(ReaperVerticle.class);
  /**
   * After a node loss, each survivor sweeps its own entries again at these delays: entries
   * promoted from backups become local only once the partition table is repaired, which
   * takes longer when the lost node was still receiving partitions (it had just joined).
   * The master also sweeps whenever a migration round finishes within a while of a loss.
   */
  private static final long[] RESWEEP_MS = {100, 300, 700, 1_000, 1_500, 2_000, 2_500, 3_000,
      4_000};
  /**
   * A node-loss sweep waits while every other member has been silent this long (heartbeats
   * come every second).
   */
  private static final long PEERS_SILENT_MS = 1_500;
  /** How long after a loss a finished migration round triggers a sweep, and a loss is kept. */
  private static final long RECENT_LOSS_NS = 30_000_000_000L;

  /** A node loss: the node's label, its last heartbeat, its detection, when (nanoTime). */
  private record Loss(String label, long heardAt, long detectedAt, long atNanos) {
  }
  /** How often the users online in this member's entries are counted (a local scan). */
  private static final long COUNT_ONLINE_MS = 5_000;

  private final PresenceConfig config;
  private final HazelcastInstance hazelcast;
  private final PauseSignal pauses;
  private final BooleanSupplier maySweep;
  private final Map<String, Set<Integer>> liveByNode = new ConcurrentHashMap<>();
  private PresenceStore store;
  private Transitions transitions;
  private DigestRepair digests;
  private DbReconciler reconciler;
  private LastHeard lastHeard;
  private Pool pool;
  private StateMirror mirror;
  private Runnable unwatchMirror = () -> { };
  private WorkerExecutor repairs;
  private UUID membershipRegistration;
  private UUID migrationRegistration;
  /**
   * The node losses of the last {@link #RECENT_LOSS_NS}, by node id: a sweep's users are
   * logged against the loss of the node that held their sessions.
   */
  private final Map<String, Loss> recentLosses = new ConcurrentHashMap<>();
  private static final int NAMES_KEPT = 1_024;
  /**
   * The names of the nodes seen as members, by node id (the latest {@value #NAMES_KEPT}): a
   * sweep that removes the users of a node before its loss is reported here still names it.
   */
  private final Map<String, String> memberNames = Collections.synchronizedMap(
      new LinkedHashMap<>(16, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
          return size() > NAMES_KEPT;
        }
      });
  /** A sweep is removing entries (node-loss and periodic sweeps take turns). */
  private boolean sweeping;
  /** The sweep removing entries is a node-loss sweep (not the periodic one). */
  private boolean sweepingNodeLoss;
  /** A node-loss sweep asked for while another was removing: when, for the log. */
  private String sweepAgain;
  private boolean reconciling;
  /** When the pass under way began, and how many passes were begun (nanoTime, count). */
  private long passStartedAt;
  private long passes;
  /** When the online rows were last compared (nanoTime). */
  private long lastOnlineRowsAt = System.nanoTime();

  public ReaperVerticle(PresenceConfig config, HazelcastInstance hazelcast, PauseSignal pauses,
                        BooleanSupplier maySweep) {
    this.config = config;
    this.hazelcast = hazelcast;
    this.pauses = pauses;
    this.maySweep = maySweep;
  }

  @Override
  public Future<?> start() {
    pool = MirrorPool.create(vertx, "presence-reaper", config.dbUrl(), 4);
    mirror = new StateMirror(vertx, pool);
    unwatchMirror = PresenceMetrics.current().mirror(mirror::backlog);
    repairs = vertx.createSharedWorkerExecutor(PresenceConfig.REPAIR_POOL, 2);
    store = new HazelcastPresenceStore(vertx, hazelcast, repairs, mirror::versions);
    transitions = new Transitions(vertx, store, mirror, config.requestTimeoutMs());
    digests = new DigestRepair(store, transitions, vertx.eventBus());
    reconciler = new DbReconciler(store, mirror);
    lastHeard = new LastHeard(hazelcast);
    Context context = vertx.getOrCreateContext();
    membershipRegistration = hazelcast.getCluster().addMembershipListener(new MembershipListener() {
      @Override
      public void memberAdded(MembershipEvent event) {
        rememberName(event.getMember());
      }

      @Override
      public void memberRemoved(MembershipEvent event) {
        long detectedAt = System.currentTimeMillis();
        Member member = event.getMember();
        String nodeId = member.getAttribute(PresenceConfig.NODE_ATTRIBUTE);
        String node = member.getAttribute(PresenceConfig.NODE_NAME_ATTRIBUTE) + " (" + nodeId
            + ")";
        long heardAt = lastHeard.forget(member.getUuid());
        LOG.warn("node {} left the cluster (member {}); removing its sessions", node,
            member.getUuid());
        long now = System.nanoTime();
        recentLosses.values().removeIf(loss -> now - loss.atNanos() > RECENT_LOSS_NS);
        // Before the partition table is repaired: its migration events find the loss.
        if (nodeId != null) {
          recentLosses.put(nodeId, new Loss(node, heardAt, detectedAt, now));
        }
        context.runOnContext(v -> nodeLost(nodeId));
      }
    });
    // the members already there (after the listener: a member joining meanwhile is not missed)
    hazelcast.getCluster().getMembers().forEach(this::rememberName);
    migrationRegistration = hazelcast.getPartitionService().addMigrationListener(
        new MigrationListener() {
          @Override
          public void migrationStarted(MigrationState state) {
          }

          @Override
          public void migrationFinished(MigrationState state) {
            long now = System.nanoTime();
            if (recentLosses.values().stream()
                .anyMatch(loss -> now - loss.atNanos() < RECENT_LOSS_NS)) {
              context.runOnContext(v -> {
                if (mayAct("node-loss sweep")) {
                  measuredSweep("after partition migration");
                }
              });
            }
          }

          @Override
          public void replicaMigrationCompleted(ReplicaMigrationEvent event) {
          }

          @Override
          public void replicaMigrationFailed(ReplicaMigrationEvent event) {
          }
        });
    vertx.setPeriodic(250, t -> lastHeard.sample());
    // Ready only once no row shows a user online without a live session (the oldest member
    // checks; after a whole-cluster crash, that is the first node up).
    boolean mayAct = mayAct("start-up sweep and reconciliation");
    return (mayAct ? sweepOnce("start-up").mapEmpty() : Future.succeededFuture())
        .compose(v -> mayAct && elected() ? reconcileOnce(true) : Future.succeededFuture())
        .compose(v -> vertx.eventBus().<JsonObject>consumer(Addresses.PRESENCE_NODE_DIGEST,
            msg -> onDigest(msg.body())).completion())
        .onSuccess(v -> {
          vertx.setPeriodic(config.sweepIntervalMs(), t -> sweep());
          vertx.setPeriodic(config.repairRoundMs(), t -> reconcile());
          vertx.setPeriodic(COUNT_ONLINE_MS, t -> store.countLocalOnline()
              .onSuccess(PresenceMetrics.current()::usersOnline));
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
    if (migrationRegistration != null) {
      try {
        hazelcast.getPartitionService().removeMigrationListener(migrationRegistration);
      } catch (RuntimeException e) {
        LOG.debug("migration listener not removed: {}", e.getMessage());
      }
    }
    if (repairs != null) {
      repairs.close();
    }
    return pool == null ? Future.succeededFuture()
        : mirror.settled(StateMirror.SETTLE_AT_STOP_MS).eventually(() -> {
          unwatchMirror.run();
          return pool.close();
        });
  }

  /** Whether this side may act on other nodes' sessions now. */
  private boolean mayAct(String what) {
    if (!maySweep.getAsBoolean()) {
      LOG.warn("not running the {}: this side of the cluster may not sweep (no quorum)", what);
      return false;
    }
    if (pauses.recentlyPaused()) {
      // This process was frozen: the others declared it dead, not the other way round.
      LOG.warn("not running the {}: this node was paused and is rejoining", what);
      return false;
    }
    return true;
  }

  /** The oldest member reconciles the database; the others leave it alone. */
  private boolean elected() {
    return hazelcast.getCluster().getMembers().iterator().next().localMember();
  }

  private void nodeLost(String nodeId) {
    if (nodeId != null) {
      liveByNode.remove(nodeId);
    }
    if (!mayAct("node-loss sweep")) {
      return;
    }
    measuredSweep("at once");
    for (long delay : RESWEEP_MS) {
      vertx.setTimer(delay, t -> {
        if (mayAct("node-loss sweep")) {
          measuredSweep("after " + delay + " ms");
        }
      });
    }
  }

  /**
   * One local sweep after a node loss. Its users are logged per lost node, with the parts of
   * the path: last heartbeat → detection → sessions removed → rows written and friends told.
   * A migration round may finish before the membership event of the loss that caused it is
   * handled here: users of a node with no loss recorded yet are measured from this sweep.
   */
  private void measuredSweep(String when) {
    if (!peersHeard("node-loss sweep (" + when + ")")) {
      return;
    }
    if (sweeping) {
      // One removal at a time: a sweep that started before the previous one had removed its
      // entries would find them all again and submit them all again. The next one runs as
      // soon as this one has removed its entries, and finds what was promoted meanwhile.
      sweepAgain = when;
      return;
    }
    sweeping = true;
    sweepingNodeLoss = true;
    long sweepStart = System.currentTimeMillis();
    store.dropLocalOutside(liveNodes())
        .onComplete(removed -> sweepDone())
        .compose(changes -> {
          PresenceMetrics.current().swept(changes.size());
          if (changes.isEmpty() || !mayAct("writing the rows of a node-loss sweep")) {
            // This side lost its quorum while it removed them: the map entries it changed
            // are discarded when the sides merge; the rows and friends are the majority's.
            return Future.succeededFuture();
          }
          long swept = System.currentTimeMillis();
          Map<String, Map<Integer, Long>> byNode = new HashMap<>();
          changes.forEach((userId, removed) -> {
            if (removed.wentOffline()) {
              byNode.computeIfAbsent(String.valueOf(removed.node()), n -> new HashMap<>())
                  .put(userId, removed.version());
            }
          });
          List<Future<Void>> logged = new ArrayList<>();
          byNode.forEach((nodeId, done) -> logged.add(transitions.wentOffline(done).transform(ar -> {
            long finished = System.currentTimeMillis();
            Loss loss = recentLosses.getOrDefault(nodeId,
                new Loss(departedLabel(nodeId), -1, sweepStart, 0));
            long heardAt = loss.heardAt();
            LOG.info("node loss {}: {} users offline (sweep {}); last heartbeat→detected {} ms,"
                    + " detected→swept {} ms, swept→written and told {} ms; total {} ms"
                    + " since last heartbeat", loss.label(), done.size(), when,
                heardAt > 0 ? loss.detectedAt() - heardAt : -1, swept - loss.detectedAt(),
                finished - swept, heardAt > 0 ? finished - heardAt : -1);
            return Future.<Void>succeededFuture();
          })));
          return Future.join(logged).mapEmpty();
        })
        .onFailure(err -> LOG.warn("node-loss sweep ({}) failed after {} ms: {}", when,
            System.currentTimeMillis() - sweepStart, err.getMessage()));
  }

  /**
   * A departed node as a sweep's log names it: as its loss was reported here, else by the
   * name it had as a member (a sweep can find its users before the membership event comes).
   */
  private String departedLabel(String nodeId) {
    Loss loss = recentLosses.get(nodeId);
    return loss != null ? loss.label() : memberNames.getOrDefault(nodeId, "?") + " (" + nodeId
        + ", no loss of it reported here lately)";
  }

  private Set<String> liveNodes() {
    return hazelcast.getCluster().getMembers().stream()
        .map(member -> member.getAttribute(PresenceConfig.NODE_ATTRIBUTE))
        .filter(Objects::nonNull)
        .collect(Collectors.toSet());
  }

  private void rememberName(Member member) {
    String nodeId = member.getAttribute(PresenceConfig.NODE_ATTRIBUTE);
    String name = member.getAttribute(PresenceConfig.NODE_NAME_ATTRIBUTE);
    if (nodeId != null && name != null) {
      memberNames.put(nodeId, name);
    }
  }

  /**
   * Whether some other member was heard from lately. When a member is removed while every
   * other member listed has been silent for {@value #PEERS_SILENT_MS} ms too, this side is
   * most likely the one cut off: the quorum rule may still count a peer whose last heartbeat
   * came a little later than the removed member's (heartbeats are a second apart), and a sweep
   * then would take a live side's users offline in the rows. The sweep waits for the next
   * try: by then a peer was heard (a slow heartbeat), or the quorum is known lost.
   */
  private boolean peersHeard(String what) {
    long silent = lastHeard.quietestPeerSilenceMs();
    if (silent > PEERS_SILENT_MS) {
      LOG.warn("not running the {} now: no other member heard from for {} ms", what, silent);
      return false;
    }
    return true;
  }

  private void sweep() {
    if (sweeping || !mayAct("periodic sweep") || !peersHeard("periodic sweep")) {
      return;
    }
    sweeping = true;
    sweepOnce("periodic")
        .onFailure(err -> LOG.warn("sweep of departed nodes failed: {}", err.getMessage()))
        .onComplete(ar -> sweepDone());
  }

  /** A sweep has removed its entries: a node-loss sweep asked for meanwhile runs now. */
  private void sweepDone() {
    sweeping = false;
    sweepingNodeLoss = false;
    String again = sweepAgain;
    sweepAgain = null;
    if (again != null && mayAct("node-loss sweep")) {
      measuredSweep(again + ", held back until the previous one had removed its entries");
    }
  }

  private Future<Map<Integer, Removed>> sweepOnce(String why) {
    return store.dropLocalOutside(liveNodes()).onSuccess(changes -> {
      PresenceMetrics.current().swept(changes.size());
      if (!changes.isEmpty() && !mayAct("writing the rows of the " + why + " sweep")) {
        return;
      }
      Map<Integer, Long> offline = new HashMap<>();
      Map<String, Integer> offlineByNode = new TreeMap<>();
      changes.forEach((userId, removed) -> {
        if (removed.wentOffline()) {
          offline.put(userId, removed.version());
          offlineByNode.merge(String.valueOf(removed.node()), 1, Integer::sum);
        }
      });
      if (!offline.isEmpty()) {
        transitions.wentOffline(offline);
      }
      if (!changes.isEmpty()) {
        LOG.info("{} sweep: removed the sessions of {} users held by departed nodes", why,
            changes.size());
      }
      offlineByNode.forEach((nodeId, users) -> LOG.info("node loss {}: {} users offline ({}"
          + " sweep)", departedLabel(nodeId), users, why));
    });
  }

  private void onDigest(JsonObject body) {
    DigestRepair.Digest digest;
    try {
      digest = DigestRepair.Digest.parse(body);
    } catch (RuntimeException e) {
      LOG.warn("malformed session digest ignored: {}", e.getMessage());
      return;
    }
    if (!liveNodes().contains(digest.nodeId())) {
      // A node the cluster no longer counts: its sessions were swept; it will close them.
      return;
    }
    liveByNode.put(digest.nodeId(), new HashSet<>(digest.loggedIn().keySet()));
    if (!mayAct("digest repair")) {
      return;
    }
    digests.apply(digest)
        .onFailure(err -> LOG.warn("digest of node {} not applied: {}", digest.nodeId(),
            err.getMessage()));
  }

  /**
   * One round of the database reconciliation. Every round compares the rows of the users the
   * digests show live: a live session whose row is not {@code online} is never left for a
   * later round. The online rows are compared too, except while a node-loss sweep removes
   * sessions or the reaper's rows are being written: those rows are on their way, and
   * comparing them would find them all "wrong" and align them entry by entry. That part waits
   * at most {@link #onlineRowsDeferMs()}; then it runs whatever the sweeps do. A pass still
   * unfinished after one round (its writes wait) does not hold back the next round's
   * comparison of the live users' rows, nor, after {@link #onlineRowsDeferMs()}, of the
   * online rows.
   */
  private void reconcile() {
    if (!elected() || !mayAct("database reconciliation")) {
      return;
    }
    long now = System.nanoTime();
    long runningMs = TimeUnit.NANOSECONDS.toMillis(now - passStartedAt);
    if (reconciling) {
      if (runningMs < config.repairRoundMs()) {
        return;
      }
      // Its writes may wait (a row locked, a slow database): the live users' rows are
      // compared again anyway, and the online rows too once it is that late.
      LOG.warn("database reconciliation: the pass begun {} ms ago has not finished; starting"
          + " another", runningMs);
    }
    boolean busy = sweepingNodeLoss || mirror.backlog() > 0;
    long deferredMs = TimeUnit.NANOSECONDS.toMillis(now - lastOnlineRowsAt);
    boolean onlineRows = (!reconciling || runningMs >= onlineRowsDeferMs())
        && (!busy || deferredMs >= onlineRowsDeferMs());
    if (!onlineRows) {
      LOG.info("database reconciliation: live users' rows compared now, the online rows"
          + " deferred ({} ms so far, at most {} ms): a node-loss sweep is removing sessions or"
          + " {} rows are being written", deferredMs, onlineRowsDeferMs(), mirror.backlog());
    } else if (busy) {
      LOG.info("database reconciliation: comparing the online rows although a node-loss sweep"
          + " is removing sessions or {} rows are being written (deferred {} ms)",
          mirror.backlog(), deferredMs);
    }
    reconciling = true;
    passStartedAt = now;
    long pass = ++passes;
    reconcileOnce(onlineRows)
        .onFailure(err -> LOG.warn("reconciliation with the database failed: {}", err.getMessage()))
        .onComplete(ar -> {
          if (pass == passes) {
            reconciling = false;
          }
        });
  }

  /** How long the comparison of the online rows may be deferred while sweeps run. */
  private long onlineRowsDeferMs() {
    return config.repairSeconds() * 1000L;
  }

  private Future<Void> reconcileOnce(boolean onlineRows) {
    if (onlineRows) {
      lastOnlineRowsAt = System.nanoTime();
    }
    liveByNode.keySet().retainAll(liveNodes());
    Set<Integer> live = new HashSet<>();
    liveByNode.values().forEach(live::addAll);
    return reconciler.pass(live, onlineRows).mapEmpty();
  }
}
