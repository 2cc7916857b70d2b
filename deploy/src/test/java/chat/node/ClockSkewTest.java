package chat.node;

import static chat.node.ProcessCluster.befriend;
import static chat.node.ProcessCluster.idOf;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import chat.node.TestDatabase.FreshDatabase;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Two nodes, one of them with its wall clock five minutes behind (libfaketime preloaded into
 * its process; monotonic clocks untouched): whichever node a user's transitions go through,
 * and in whatever order, a user with a live session is shown online, in the database and to
 * a friend, and stays so. Includes users whose last transition was stamped by the node in
 * time two minutes earlier, before the node behind joined and took over part of them.
 */
@ExtendWith(TestDatabase.Extension.class)
@Timeout(400)
@Tag("heal")
class ClockSkewTest {

  private static final Logger LOG = LoggerFactory.getLogger(ClockSkewTest.class);
  private static final Path FAKETIME =
      Path.of("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1");
  private static final int EARLIER_USERS = 8;
  /**
   * Long enough for the cluster to forget a user's last transition (tombstones are kept
   * about a minute and swept every minute): only the row remembers it then.
   */
  private static final Duration FORGOTTEN_AFTER = Duration.ofSeconds(125);
  /** Longer than CHAT_REPAIR_S and the reconciliation period: a late repair would show. */
  private static final Duration STAYS_FOR = Duration.ofSeconds(12);

  @Test
  void aNodeWhoseClockIsFiveMinutesBehindCannotMakeALiveUserLookOffline(FreshDatabase database)
      throws InterruptedException {
    Assumptions.assumeTrue(Files.exists(FAKETIME),
        "clock-skew test skipped: libfaketime is not installed (Debian package faketime)");
    Db db = new Db(database.url());
    try (ProcessCluster cluster = new ProcessCluster(database.url(), 2, Map.of())) {
      cluster.start(0);
      TcpTestClient watcher = cluster.user(0, "watcher");
      int watcherId = idOf(watcher);
      // Users whose last transitions were stamped by the node in time, long enough ago that
      // the cluster keeps nothing of them but the rows.
      List<Integer> earlier = new ArrayList<>();
      for (int i = 0; i < EARLIER_USERS; i++) {
        TcpTestClient user = cluster.user(0, "earlier");
        earlier.add(idOf(user));
        befriend(user, watcherId);
        user.close();
      }
      for (int id : earlier) {
        Eventually.within(Duration.ofSeconds(5), () -> assertEquals("offline", db.state(id)));
      }
      Thread.sleep(FORGOTTEN_AFTER.toMillis());

      // The node behind joins and owns part of the users now.
      NodeProcess behind = cluster.start(1, Map.of(
          "LD_PRELOAD", FAKETIME.toString(),
          "FAKETIME", "-5m",
          // Monotonic clocks stay true; without turning the monotonic fix off, every clock
          // read of the JVM costs microseconds and the node crawls.
          "FAKETIME_DONT_FAKE_MONOTONIC", "1",
          "FAKETIME_FORCE_MONOTONIC_FIX", "0"), List.of());
      assertTrue(behind.isAlive());
      for (int i = 0; i < earlier.size(); i++) {
        TcpTestClient again = cluster.connect(i % 2);
        again.loginOk(earlier.get(i), "pw");
      }
      for (int id : earlier) {
        stayOnline(db, watcher, id, Duration.ofSeconds(1));
      }
      stayOnline(db, watcher, earlier.get(0), STAYS_FOR);

      // On the node in time, then on the node behind.
      TcpTestClient firstAgain = onOneThenOther(cluster, db, watcherId, 0, 1);
      stayOnline(db, watcher, idOf(firstAgain), STAYS_FOR);

      // On the node behind, then on the node in time, then back and forth.
      TcpTestClient secondAgain = onOneThenOther(cluster, db, watcherId, 1, 0);
      int secondId = idOf(secondAgain);
      for (int i = 0; i < 3; i++) {
        secondAgain.close();
        secondAgain = cluster.connect(i % 2 == 0 ? 1 : 0);
        secondAgain.loginOk(secondId, "pw");
      }
      stayOnline(db, watcher, secondId, STAYS_FOR);
      LOG.info("a node 5 minutes behind never showed a live user offline");
    }
  }

  /**
   * A new user, the watcher's friend, logged in on node {@code first} and gone again, then
   * logged in on node {@code then}: the client of that second session.
   */
  private static TcpTestClient onOneThenOther(ProcessCluster cluster, Db db, int watcherId,
                                              int first, int then) {
    TcpTestClient user = cluster.user(first, "node" + first + "-then-node" + then);
    int id = idOf(user);
    befriend(user, watcherId);
    user.close();
    Eventually.within(Duration.ofSeconds(5), () -> assertEquals("offline", db.state(id)));
    TcpTestClient again = cluster.connect(then);
    again.loginOk(id, "pw");
    return again;
  }

  /** Online in the database, to a query, and in the friend's latest PRESENCE, for a while. */
  private static void stayOnline(Db db, TcpTestClient friend, int id, Duration stays) {
    Eventually.within(Duration.ofSeconds(3), () -> {
      assertEquals("online", db.state(id), "user.state of " + id);
      assertEquals("online", lastPresence(friend, id), "last PRESENCE of " + id);
    });
    long until = System.nanoTime() + stays.toNanos();
    while (System.nanoTime() < until) {
      assertEquals("online", db.state(id), "user.state of live user " + id);
      assertEquals(Map.of(id, "online"), ProcessCluster.query(friend, List.of(id)));
      assertEquals("online", lastPresence(friend, id), "last PRESENCE of " + id);
      try {
        Thread.sleep(500);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /**
   * The state a client keeps for a user from PRESENCE messages: the one with the highest
   * {@code v} when they carry one, else the latest.
   */
  static String lastPresence(TestClient client, int id) {
    JsonObject best = null;
    for (JsonObject m : client.all()) {
      if (m.getInteger("msgid") != 103 || m.getInteger("id") != id) {
        continue;
      }
      if (best == null || !m.containsKey("v") || !best.containsKey("v")
          || m.getLong("v") >= best.getLong("v")) {
        best = m;
      }
    }
    return best == null ? "none" : best.getString("state");
  }
}
