package chat.presence.store;

import chat.presence.store.Outcomes.Aligned;
import chat.presence.store.Outcomes.Connected;
import chat.presence.store.Outcomes.Removed;
import chat.presence.store.Outcomes.Restored;
import chat.protocol.bus.LoginPolicy;
import com.hazelcast.cluster.Member;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import com.hazelcast.partition.Partition;
import com.hazelcast.partition.PartitionService;
import com.hazelcast.query.Predicate;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.internal.ContextInternal;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The online map as a Hazelcast {@link IMap} keyed by user id. It is partitioned and backed
 * up across the members, so it outlives any single node; each change runs as an entry
 * processor on the key's owner (see {@link SessionProcessors}).
 *
 * <p>Scans never cover the whole cluster: each member looks only at the entries it owns
 * ({@code localKeySet}), on the given worker executor (never the default worker pool, where
 * password hashing runs), and then changes just the entries that need it.
 */
public final class HazelcastPresenceStore implements PresenceStore {

  private static final Logger LOG = LoggerFactory.getLogger(HazelcastPresenceStore.class);

  /** The map's name; its configuration (backups, merge policy) is in the cluster config. */
  public static final String MAP_NAME = "chat.presence.sessions";

  private final Vertx vertx;
  private final IMap<Integer, UserSessions> map;
  private final PartitionService partitions;
  private final Member self;
  private final WorkerExecutor scans;
  private final VersionSeeds seeds;

  /**
   * @param scans where blocking local scans run
   * @param seeds the database's versions, for users the map has no counter for
   */
  public HazelcastPresenceStore(Vertx vertx, HazelcastInstance hazelcast, WorkerExecutor scans,
                                VersionSeeds seeds) {
    this.vertx = vertx;
    this.map = hazelcast.getMap(MAP_NAME);
    this.partitions = hazelcast.getPartitionService();
    this.self = hazelcast.getCluster().getLocalMember();
    this.scans = scans;
    this.seeds = seeds;
  }

  @Override
  public Future<Connected> connect(int userId, SessionRef session, LoginPolicy policy) {
    return onVertx(map.submitToKey(userId, new SessionProcessors.Connect(session, policy, -1)))
        .compose(outcome -> !outcome.needsSeed() ? Future.succeededFuture(outcome)
            : seedOf(userId).compose(floor -> onVertx(
                map.submitToKey(userId, new SessionProcessors.Connect(session, policy, floor)))));
  }

  @Override
  public Future<Removed> disconnect(int userId, String sessionId) {
    return onVertx(map.submitToKey(userId, new SessionProcessors.Disconnect(sessionId)));
  }

  @Override
  public Future<Map<Integer, Removed>> dropNode(String nodeId) {
    return scans.executeBlocking(() -> map.executeOnEntries(
            new SessionProcessors.DropNode(nodeId), new HeldBy(nodeId)), false)
        .map(HazelcastPresenceStore::changedOnly);
  }

  @Override
  public Future<Map<Integer, Removed>> dropLocalOutside(Set<String> liveNodes) {
    Set<String> live = Set.copyOf(liveNodes);
    long asked = System.nanoTime();
    long[] scanned = new long[2];
    return scans.executeBlocking(() -> {
          scanned[0] = System.nanoTime();
          Set<Integer> keys = map.localKeySet(new HeldOutside(live));
          scanned[1] = System.nanoTime();
          return keys;
        }, false)
        .compose(keys -> {
          if (keys.isEmpty()) {
            return Future.succeededFuture(Map.<Integer, Removed>of());
          }
          long removing = System.nanoTime();
          return onVertx(map.submitToKeys(keys, new SessionProcessors.DropNodes(live)))
              .onSuccess(done -> LOG.info("local sweep of {} entries: waited {} ms for a scan"
                      + " thread, scanned in {} ms, back on the event loop after {} ms, removed"
                      + " in {} ms", keys.size(), (scanned[0] - asked) / 1_000_000,
                  (scanned[1] - scanned[0]) / 1_000_000, (removing - scanned[1]) / 1_000_000,
                  (System.nanoTime() - removing) / 1_000_000));
        })
        .map(HazelcastPresenceStore::changedOnly);
  }

  @Override
  public Future<Map<Integer, Removed>> removeLocalStale(String nodeId, long upTo,
                                                        Map<Integer, Set<String>> held) {
    // The query looks at the local entries in place (no copy of each value, as a getAll of
    // every key the node holds made): only the entries with a stale session are changed.
    return scans.executeBlocking(() -> map.localKeySet(new StaleOn(nodeId, upTo, held)), false)
        .compose(stale -> {
          List<Integer> ids = List.copyOf(stale);
          List<Future<Removed>> removals = new ArrayList<>();
          ids.forEach(id -> removals.add(onVertx(map.submitToKey(id,
              new SessionProcessors.RemoveStale(nodeId, upTo,
                  Set.copyOf(held.getOrDefault(id, Set.of())))))));
          return Future.all(removals).map(all -> {
            Map<Integer, Removed> results = new HashMap<>();
            for (int i = 0; i < ids.size(); i++) {
              results.put(ids.get(i), all.resultAt(i));
            }
            return changedOnly(results);
          });
        });
  }

  @Override
  public Future<Restored> restore(int userId, List<SessionRef> sessions) {
    List<SessionRef> copy = List.copyOf(sessions);
    return onVertx(map.submitToKey(userId, new SessionProcessors.Restore(copy, -1)))
        .compose(outcome -> !outcome.needsSeed() ? Future.succeededFuture(outcome)
            : seedOf(userId).compose(floor -> onVertx(
                map.submitToKey(userId, new SessionProcessors.Restore(copy, floor)))));
  }

  @Override
  public Future<Set<Integer>> lackingLocal(Map<Integer, List<SessionRef>> sessions) {
    if (sessions.isEmpty()) {
      return Future.succeededFuture(Set.of());
    }
    return scans.executeBlocking(() -> {
      Set<Integer> complete = new HashSet<>(map.localKeySet(new HoldsAll(sessions)));
      Set<Integer> lacking = new HashSet<>();
      sessions.keySet().forEach(id -> {
        if (!complete.contains(id) && ownedHere(id)) {
          lacking.add(id);
        }
      });
      return lacking;
    }, false);
  }

  @Override
  public Future<Map<Integer, UserSessions>> read(Set<Integer> userIds) {
    if (userIds.isEmpty()) {
      return Future.succeededFuture(Map.of());
    }
    // Plain reads, one per key and all at once: the cheapest operation the map has (the hot
    // path of every chat message).
    List<Integer> ids = List.copyOf(userIds);
    List<Future<UserSessions>> reads = new ArrayList<>(ids.size());
    ids.forEach(id -> reads.add(onVertx(map.getAsync(id))));
    return Future.all(reads).map(all -> {
      Map<Integer, UserSessions> entries = new HashMap<>();
      for (int i = 0; i < ids.size(); i++) {
        UserSessions value = all.resultAt(i);
        if (value != null) {
          entries.put(ids.get(i), value);
        }
      }
      return entries;
    });
  }

  @Override
  public Future<Map<Integer, List<SessionRef>>> locate(Set<Integer> userIds) {
    return read(userIds).map(entries -> {
      Map<Integer, List<SessionRef>> online = new HashMap<>();
      entries.forEach((id, value) -> {
        if (value.online()) {
          online.put(id, value.sessions());
        }
      });
      return online;
    });
  }

  @Override
  public Future<Map<Integer, Aligned>> align(Map<Integer, Row> rows) {
    if (rows.isEmpty()) {
      return Future.succeededFuture(Map.of());
    }
    // One operation per partition, each entry compared with its own row in one atomic step;
    // only the rows to write come back. The keys go to Hazelcast one partition at a time: a
    // submitToKeys of keys in many partitions gives each partition's operation every key (it
    // sizes its result lists for all of them and skips the others' keys one by one), so a
    // batch of n keys over p partitions cost n × p.
    Map<Integer, Map<Integer, Row>> byPartition = new HashMap<>();
    rows.forEach((id, row) -> byPartition
        .computeIfAbsent(partitions.getPartition(id).getPartitionId(), p -> new HashMap<>())
        .put(id, row));
    List<Future<Map<Integer, Aligned>>> parts = new ArrayList<>(byPartition.size());
    byPartition.values().forEach(part -> parts.add(onVertx(
        map.submitToKeys(Set.copyOf(part.keySet()), new SessionProcessors.AlignRows(part)))));
    return Future.all(parts).map(all -> {
      Map<Integer, Aligned> writes = new HashMap<>();
      for (int i = 0; i < all.size(); i++) {
        Map<Integer, Aligned> results = all.resultAt(i);
        results.forEach((id, aligned) -> {
          if (aligned != null && aligned.write()) {
            writes.put(id, aligned);
          }
        });
      }
      return writes;
    });
  }

  @Override
  public boolean ownedHere(int userId) {
    Partition partition = partitions.getPartition(userId);
    Member owner = partition.getOwner();
    return owner != null && owner.getUuid().equals(self.getUuid());
  }

  private Future<Long> seedOf(int userId) {
    return seeds.versions(Set.of(userId)).map(versions -> versions.getOrDefault(userId, 0L));
  }

  private static Map<Integer, Removed> changedOnly(Map<Integer, Removed> results) {
    Map<Integer, Removed> changed = new HashMap<>();
    results.forEach((id, removed) -> {
      if (removed.removed() > 0) {
        changed.put(id, removed);
      }
    });
    return changed;
  }

  /**
   * Hazelcast's future, completed on this verticle's context. The callback is registered
   * with a direct executor: without one, Hazelcast runs it on the common fork-join pool, which
   * on a machine with two processors starts a new thread for every task.
   */
  private <T> Future<T> onVertx(CompletionStage<T> stage) {
    Promise<T> promise = ((ContextInternal) vertx.getOrCreateContext()).promise();
    stage.whenCompleteAsync((value, error) -> {
      if (error != null) {
        promise.tryFail(error);
      } else {
        promise.tryComplete(value);
      }
    }, Runnable::run);
    return promise.future();
  }

  @Override
  public Future<Integer> countLocalOnline() {
    return scans.executeBlocking(() -> map.localKeySet(new Online()).size(), false);
  }

  /** Entries with at least one session. */
  record Online() implements Predicate<Integer, UserSessions> {
    @Override
    public boolean apply(Map.Entry<Integer, UserSessions> entry) {
      return entry.getValue().online();
    }
  }

  /** Entries with at least one session on the given node. */
  record HeldBy(String nodeId) implements Predicate<Integer, UserSessions> {
    @Override
    public boolean apply(Map.Entry<Integer, UserSessions> entry) {
      return entry.getValue().heldOn(nodeId);
    }
  }

  /**
   * Entries with a session of the given node that its digest ({@code upTo}, {@code held}) no
   * longer lists. Used for local queries only: it carries the node's whole digest.
   */
  record StaleOn(String nodeId, long upTo, Map<Integer, Set<String>> held)
      implements Predicate<Integer, UserSessions> {
    @Override
    public boolean apply(Map.Entry<Integer, UserSessions> entry) {
      UserSessions value = entry.getValue();
      if (!value.heldOn(nodeId)) {
        return false; // the key (deserialized for each entry read) is read only when needed
      }
      Set<String> heldHere = held.getOrDefault(entry.getKey(), Set.of());
      List<SessionRef> sessions = value.sessions();
      for (int i = 0; i < sessions.size(); i++) {
        if (SessionProcessors.isStale(sessions.get(i), nodeId, upTo, heldHere)) {
          return true;
        }
      }
      return false;
    }
  }

  /** Entries with at least one session on a node outside the given set. */
  record HeldOutside(Set<String> liveNodes) implements Predicate<Integer, UserSessions> {
    @Override
    public boolean apply(Map.Entry<Integer, UserSessions> entry) {
      // runs for every local entry every sweep interval: heldOutside allocates nothing
      return entry.getValue().heldOutside(liveNodes);
    }
  }

  /**
   * Entries of the given users that hold every one of the user's given sessions. Used for
   * local queries only: it carries a node's whole digest.
   */
  record HoldsAll(Map<Integer, List<SessionRef>> sessions)
      implements Predicate<Integer, UserSessions> {
    @Override
    public boolean apply(Map.Entry<Integer, UserSessions> entry) {
      UserSessions value = entry.getValue();
      if (!value.online()) {
        return false; // lists nothing the digest lists (most offline users' entries)
      }
      List<SessionRef> listed = sessions.get(entry.getKey());
      if (listed == null) {
        return false;
      }
      for (int i = 0; i < listed.size(); i++) {
        if (!value.holds(listed.get(i).sessionId())) {
          return false;
        }
      }
      return true;
    }
  }
}
