package chat.presence.store;

import chat.presence.store.Outcomes.Connected;
import chat.presence.store.Outcomes.Removed;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.EntryProcessor;
import com.hazelcast.map.IMap;
import com.hazelcast.query.Predicate;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;

/**
 * The online map as a Hazelcast {@link IMap} keyed by user id. It is partitioned and backed
 * up across the members, so it outlives any single node; each change runs as an entry
 * processor on the key's owner (see {@link SessionProcessors}).
 */
public final class HazelcastPresenceStore implements PresenceStore {

  /** The map's name; its configuration (backups, merge policy) is in the cluster config. */
  public static final String MAP_NAME = "chat.presence.sessions";

  private final Vertx vertx;
  private final IMap<Integer, UserSessions> map;

  public HazelcastPresenceStore(Vertx vertx, HazelcastInstance hazelcast) {
    this.vertx = vertx;
    this.map = hazelcast.getMap(MAP_NAME);
  }

  @Override
  public Future<Connected> connect(int userId, SessionRef session, LoginPolicy policy) {
    return onVertx(map.submitToKey(userId, new SessionProcessors.Connect(session, policy, now())));
  }

  @Override
  public Future<Removed> disconnect(int userId, String sessionId) {
    return onVertx(map.submitToKey(userId, new SessionProcessors.Disconnect(sessionId, now())));
  }

  @Override
  public Future<Map<Integer, Removed>> dropNode(String nodeId) {
    return onEntries(new SessionProcessors.DropNode(nodeId, now()), new HeldBy(nodeId))
        .map(HazelcastPresenceStore::changedOnly);
  }

  @Override
  public Future<Map<Integer, Removed>> dropNodesOtherThan(Set<String> liveNodes) {
    return onEntries(new SessionProcessors.DropNodes(Set.copyOf(liveNodes), now()),
        new HeldOutside(Set.copyOf(liveNodes)))
        .map(HazelcastPresenceStore::changedOnly);
  }

  @Override
  public Future<Map<Integer, List<SessionRef>>> locate(Set<Integer> userIds) {
    if (userIds.isEmpty()) {
      return Future.succeededFuture(Map.of());
    }
    // Plain reads, one per key and all at once: the cheapest operation the map has (the hot
    // path of every chat message).
    List<Integer> ids = List.copyOf(userIds);
    List<Future<UserSessions>> reads = new ArrayList<>(ids.size());
    ids.forEach(id -> reads.add(onVertx(map.getAsync(id))));
    return Future.all(reads).map(all -> {
      Map<Integer, List<SessionRef>> online = new HashMap<>();
      for (int i = 0; i < ids.size(); i++) {
        UserSessions value = all.resultAt(i);
        if (value != null && value.online()) {
          online.put(ids.get(i), value.sessions());
        }
      }
      return online;
    });
  }

  @Override
  public Future<Map<Integer, Long>> stampOffline(Set<Integer> userIds) {
    if (userIds.isEmpty()) {
      return Future.succeededFuture(Map.of());
    }
    return onVertx(map.submitToKeys(userIds, new SessionProcessors.StampOffline(now())))
        .map(stamped -> {
          Map<Integer, Long> offline = new HashMap<>();
          stamped.forEach((id, version) -> {
            if (version != null && version >= 0) {
              offline.put(id, version);
            }
          });
          return offline;
        });
  }

  @Override
  public Future<Integer> forgetTombstones(long ageMillis) {
    return onEntries(new SessionProcessors.ForgetTombstones(now() - ageMillis), new Offline())
        .map(results -> (int) results.values().stream().filter(Boolean.TRUE::equals).count());
  }

  private static long now() {
    return System.currentTimeMillis();
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

  private <R> Future<Map<Integer, R>> onEntries(EntryProcessor<Integer, UserSessions, R> processor,
                                                Predicate<Integer, UserSessions> predicate) {
    // executeOnEntries blocks until every partition has answered: keep it off the event loop.
    return vertx.executeBlocking(() -> map.executeOnEntries(processor, predicate), false);
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

  /** Entries with at least one session on the given node. */
  record HeldBy(String nodeId) implements Predicate<Integer, UserSessions> {
    @Override
    public boolean apply(Map.Entry<Integer, UserSessions> entry) {
      return entry.getValue().sessions().stream().anyMatch(s -> s.nodeId().equals(nodeId));
    }
  }

  /** Entries with at least one session on a node outside the given set. */
  record HeldOutside(Set<String> liveNodes) implements Predicate<Integer, UserSessions> {
    @Override
    public boolean apply(Map.Entry<Integer, UserSessions> entry) {
      return !entry.getValue().onNodesOtherThan(liveNodes).isEmpty();
    }
  }

  /** Entries with no session (tombstones). */
  record Offline() implements Predicate<Integer, UserSessions> {
    @Override
    public boolean apply(Map.Entry<Integer, UserSessions> entry) {
      return !entry.getValue().online();
    }
  }
}
