package chat.presence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import chat.presence.mirror.MirrorPool;
import chat.presence.mirror.StateMirror;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The batched {@code user.state} writes, on a real database. */
@Timeout(120)
class StateMirrorTest {

  private static TestCluster cluster;
  private static Pool pool;
  private static StateMirror mirror;

  @BeforeAll
  static void start() {
    cluster = new TestCluster(0);
    pool = MirrorPool.create(cluster.vertx, "mirror-test-" + UUID.randomUUID(), cluster.dbUrl, 4);
    mirror = cluster.onContext(() -> new StateMirror(cluster.vertx, pool));
  }

  @AfterAll
  static void stop() {
    pool.close().await();
    cluster.close();
  }

  @Test
  void thousandsOfWritesGoOutInAFewStatementsAndEachRowKeepsItsNewestVersion() {
    // 1,200 users: rows behind their write (they change), rows ahead of it (they keep their
    // newer transition), and writes for users that do not exist.
    Map<Integer, Long> behind = new HashMap<>();
    Map<Integer, Long> ahead = new HashMap<>();
    for (int i = 0; i < 1_000; i++) {
      behind.put(cluster.addUser("online", 10 + i % 7), 20L + i % 7);
    }
    for (int i = 0; i < 150; i++) {
      ahead.put(cluster.addUser("online", 50), 49L);
    }
    List<Integer> missing = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      missing.add(900_000_000 + i);
    }
    long before = cluster.onContext(mirror::statements);

    Map<Integer, Boolean> landed = cluster.onContextF(() -> {
      Map<Integer, Future<Boolean>> writes = new HashMap<>();
      behind.forEach((id, v) -> writes.put(id, mirror.write(id, false, v)));
      ahead.forEach((id, v) -> writes.put(id, mirror.write(id, false, v)));
      missing.forEach(id -> writes.put(id, mirror.write(id, false, 5)));
      return Future.all(List.copyOf(writes.values())).map(all -> {
        Map<Integer, Boolean> results = new HashMap<>();
        writes.forEach((id, f) -> results.put(id, f.result()));
        return results;
      });
    }).await();

    long statements = cluster.onContext(mirror::statements) - before;
    assertTrue(statements <= 3, "1,200 writes in batches of at most 500: " + statements);
    behind.forEach((id, v) -> {
      assertEquals("offline@" + v, cluster.row(id), "user " + id);
      assertTrue(landed.get(id), "user " + id + " was written");
    });
    ahead.forEach((id, v) -> {
      assertEquals("online@50", cluster.row(id), "a newer row is never undone: user " + id);
      assertFalse(landed.get(id), "user " + id + " was not written");
    });
    missing.forEach(id -> assertFalse(landed.get(id), "no row for user " + id));
  }

  @Test
  void batchesOfEverySizeReuseAHandfulOfPreparedStatements() {
    // One connection, so its own session counters are the pool's: batches of 1 to 40 users
    // (a login storm's online writes come in batches of any size) are written with the
    // statements of 1, 2, 4, ... 64 users, each prepared once and kept.
    Pool one = MirrorPool.create(cluster.vertx, "mirror-one-" + UUID.randomUUID(),
        cluster.dbUrl, 1);
    try {
      StateMirror single = cluster.onContext(() -> new StateMirror(cluster.vertx, one));
      for (int n = 1; n <= 40; n++) {
        List<Integer> users = cluster.addUsers(n, "offline", 3);
        cluster.onContextF(() -> Future.all(users.stream()
            .map(id -> single.write(id, true, 4)).toList())).await();
        users.forEach(id -> assertEquals("online@4", cluster.row(id), "user " + id));
      }
      long prepared = Long.parseLong(one.query("SHOW SESSION STATUS LIKE 'Com_stmt_prepare'")
          .execute().await().iterator().next().getString(1));
      assertTrue(prepared <= 2 * 7, "40 batches prepared " + prepared + " statements");
    } finally {
      one.close().await();
    }
  }

  @Test
  void aNewerWriteOfAUserWhoseWriteIsOnItsWayLandsAfterItAndAnOlderOneDoesNot() {
    int user = cluster.addUser("offline", 1);
    List<Boolean> results = cluster.onContextF(() -> {
      Future<Boolean> first = mirror.write(user, true, 2);
      io.vertx.core.Promise<List<Boolean>> all = io.vertx.core.Promise.promise();
      // runs after the flush that sent v 2: these wait for it, and only the newest is sent
      cluster.vertx.runOnContext(v -> {
        Future<Boolean> second = mirror.write(user, false, 4);
        Future<Boolean> stale = mirror.write(user, true, 3);
        Future.all(first, second, stale)
            .map(done -> List.of(first.result(), second.result(), stale.result()))
            .onComplete(all);
      });
      return all.future();
    }).await();
    assertTrue(results.get(0), "v 2 landed");
    assertEquals("offline@4", cluster.row(user));
    // The newest of the two pending states was written: both waiters see it land.
    assertTrue(results.get(1), "v 4 landed");

    Boolean older = cluster.onContextF(() -> mirror.write(user, true, 3)).await();
    assertFalse(older, "v 3 after v 4 does not land");
    assertEquals("offline@4", cluster.row(user));
  }

  @Test
  void aLoginsRowDoesNotQueueBehindTheOfflineRowsOfANodeLoss() throws Exception {
    // A node loss: 1,500 users going offline, the first two batches stuck on row locks held
    // by another transaction (a slow database, a long sweep's writes).
    List<Integer> gone = cluster.addUsers(1_500, "online", 1);
    int login = cluster.addUser("offline", 1);
    io.vertx.sqlclient.SqlConnection locker = cluster.db.getConnection().await();
    io.vertx.sqlclient.Transaction locks = locker.begin().await();
    try {
      locker.preparedQuery("SELECT id FROM user WHERE id IN (?, ?) FOR UPDATE")
          .execute(io.vertx.sqlclient.Tuple.of(gone.get(0), gone.get(700))).await();
      List<Future<Boolean>> offline = cluster.onContext(() -> {
        List<Future<Boolean>> writes = new ArrayList<>();
        gone.forEach(id -> writes.add(mirror.write(id, false, 2)));
        return writes;
      });
      // Both offline batches are out, waiting for the locks; a user logs in meanwhile.
      TestCluster.eventually(java.time.Duration.ofSeconds(10),
          () -> cluster.onContext(mirror::statements) >= 2, "the offline batches sent");
      long asked = System.nanoTime();
      Future<Boolean> online = cluster.onContextF(() -> mirror.write(login, true, 2));
      TestCluster.eventually(java.time.Duration.ofSeconds(5), online::isComplete,
          "the login's row written while the offline batches wait");
      assertTrue(online.result(), "the login's row landed");
      assertEquals("online@2", cluster.row(login));
      long tookMs = (System.nanoTime() - asked) / 1_000_000;
      assertFalse(offline.get(0).isComplete(), "the offline rows were still waiting");
      org.slf4j.LoggerFactory.getLogger(StateMirrorTest.class)
          .info("login row written {} ms after it was asked, behind 1,500 waiting offline rows",
              tookMs);
    } finally {
      locks.rollback().await();
      locker.close().await();
    }
    TestCluster.eventually(java.time.Duration.ofSeconds(20),
        () -> cluster.countOnline(gone) == 0, "the offline rows written once the locks went");
  }
}
