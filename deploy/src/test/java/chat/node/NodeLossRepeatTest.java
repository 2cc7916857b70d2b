package chat.node;

import static chat.node.ProcessCluster.befriend;
import static chat.node.ProcessCluster.idOf;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import chat.node.TestDatabase.FreshDatabase;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The clean failures of a node, again and again, each required every single time: a
 * SIGTERM under load tells the friends on the other node and leaves every row of the node
 * offline when its process exits; a SIGSTOP with CHAT_NODE_LOSS_S=5, while a core is kept
 * busy, has the node's user offline in the database and at a friend within 5 s.
 *
 * <p>Repetitions: {@code -Dnodeloss.repeat=N} (3 by default; the {@code chaos} profile runs
 * 20).
 */
@ExtendWith(TestDatabase.Extension.class)
@Tag("chaos")
class NodeLossRepeatTest {

  private static final Logger LOG = LoggerFactory.getLogger(NodeLossRepeatTest.class);
  private static final int NODE_LOSS_S = 5;
  private static final int USERS_ON_STOPPING_NODE = 4;

  private static int repeat() {
    return Integer.getInteger("nodeloss.repeat", 3);
  }

  @Test
  void sigtermUnderLoadLeavesEveryRowOfflineAtExitAndTellsFriendsEveryTime(FreshDatabase database) {
    Db db = new Db(database.url());
    try (ProcessCluster cluster = new ProcessCluster(database.url(), 2,
        Map.of("CHAT_NODE_LOSS_S", String.valueOf(NODE_LOSS_S)))) {
      cluster.start(0);
      TcpTestClient friend = cluster.user(0, "friend");
      int friendId = idOf(friend);
      List<Integer> ids = new ArrayList<>();
      List<Long> exitMs = new ArrayList<>();
      for (int round = 1; round <= repeat(); round++) {
        long roundStart = System.nanoTime();
        NodeProcess stopping = cluster.start(1);
        List<TcpTestClient> users = new ArrayList<>();
        for (int i = 0; i < USERS_ON_STOPPING_NODE; i++) {
          TcpTestClient user;
          if (round == 1) {
            user = cluster.user(1, "leaving");
            ids.add(idOf(user));
            befriend(user, friendId);
          } else {
            user = cluster.connect(1);
            user.loginOk(ids.get(i), "pw");
          }
          users.add(user);
        }
        for (int id : ids) {
          Eventually.within(Duration.ofSeconds(5), () -> assertEquals("online", db.state(id)));
        }
        int presenceBefore = offlineNotices(friend, ids).size();
        // Load: the friend and the leaving users chat both ways while the node stops.
        AtomicBoolean loading = new AtomicBoolean(true);
        Thread load = new Thread(() -> {
          int n = 0;
          while (loading.get()) {
            try {
              friend.chat(ids.get(n % ids.size()), "load " + n);
              users.get(n % users.size()).chat(friendId, "back " + n);
              n++;
              Thread.sleep(5);
            } catch (RuntimeException | InterruptedException e) {
              return;
            }
          }
        }, "sigterm-load");
        load.start();
        sleep(300);

        long termAt = System.nanoTime();
        int exit = stopping.terminate();
        long exitedMs = (System.nanoTime() - termAt) / 1_000_000;
        // At exit, not a moment later: every row of the node offline.
        List<String> stillOnline = new ArrayList<>();
        for (int id : ids) {
          if (!"offline".equals(db.state(id))) {
            stillOnline.add(String.valueOf(id));
          }
        }
        loading.set(false);
        joinQuietly(load);
        assertEquals(143, exit, "round " + round + ": exit code");
        assertEquals(List.of(), stillOnline, "round " + round + ": rows still online at exit");
        int round0 = round;
        Eventually.within(Duration.ofSeconds(2), () -> assertEquals(
            presenceBefore + ids.size(), offlineNotices(friend, ids).size(),
            "round " + round0 + ": PRESENCE offline at the friend, got "
                + offlineNotices(friend, ids)));
        users.forEach(TcpTestClient::close);
        exitMs.add(exitedMs);
        LOG.info("SIGTERM round {}/{}: exited after {} ms, rows offline, friend told (round {} ms)",
            round, repeat(), exitedMs, (System.nanoTime() - roundStart) / 1_000_000);
      }
      LOG.info("measured: SIGTERM under load x{}: exit after {} ms (each round)", repeat(), exitMs);
      assertEquals("online", db.state(friendId));
    }
  }

  @Test
  void sigstopWithABusyCoreSetsTheUserOfflineWithinNodeLossEveryTime(FreshDatabase database) {
    Db db = new Db(database.url());
    AtomicBoolean busy = new AtomicBoolean(true);
    Thread burner = new Thread(() -> {
      long x = 0;
      while (busy.get()) {
        x += System.nanoTime() % 7;
      }
      LOG.debug("burned {}", x);
    }, "busy-core");
    burner.setDaemon(true);
    try (ProcessCluster cluster = new ProcessCluster(database.url(), 2,
        Map.of("CHAT_NODE_LOSS_S", String.valueOf(NODE_LOSS_S)))) {
      cluster.start(0);
      NodeProcess frozen = cluster.start(1);
      TcpTestClient friend = cluster.user(0, "friend");
      int friendId = idOf(friend);
      TcpTestClient victim = cluster.user(1, "victim");
      int victimId = idOf(victim);
      befriend(victim, friendId);
      burner.start();
      List<Long> tookMs = new ArrayList<>();
      for (int round = 1; round <= repeat(); round++) {
        if (round > 1) {
          // The thawed node rejoined as a new member: log the victim in there again.
          frozen.awaitReady(round, Duration.ofSeconds(90));
          victim = cluster.connect(1);
          victim.loginOk(victimId, "pw");
        }
        Eventually.within(Duration.ofSeconds(5), () -> assertEquals("online", db.state(victimId)));
        int noticesBefore = offlineNotices(friend, List.of(victimId)).size();
        AtomicLong dbOfflineAt = new AtomicLong();
        long frozenAt = System.nanoTime();
        frozen.freeze();
        try {
          Eventually.within(Duration.ofSeconds(NODE_LOSS_S + 5), () -> {
            if (dbOfflineAt.get() == 0 && "offline".equals(db.state(victimId))) {
              dbOfflineAt.set(System.nanoTime());
            }
            assertTrue(dbOfflineAt.get() != 0, "still online in the database");
            assertEquals(noticesBefore + 1, offlineNotices(friend, List.of(victimId)).size());
          });
        } catch (AssertionError e) {
          throw new AssertionError("round " + round + ": " + e.getMessage() + "; the friend got "
              + friend.all().stream().filter(m -> m.getInteger("msgid") == 103).toList()
              + "; the survivor's view:\n" + survivorView(cluster), e);
        } finally {
          frozen.thaw();
        }
        long dbMs = (dbOfflineAt.get() - frozenAt) / 1_000_000;
        long friendMs = (noticeTime(friend, victimId, noticesBefore) - frozenAt) / 1_000_000;
        long worst = Math.max(dbMs, friendMs);
        tookMs.add(worst);
        LOG.info("SIGSTOP round {}/{}: offline in the database after {} ms, PRESENCE at the friend"
            + " after {} ms", round, repeat(), dbMs, friendMs);
        assertTrue(worst <= NODE_LOSS_S * 1000L, "round " + round + ": offline after " + dbMs
            + " ms in the database, " + friendMs + " ms at the friend (CHAT_NODE_LOSS_S="
            + NODE_LOSS_S + "); the survivor's view:\n" + survivorView(cluster));
        victim.awaitClosed(Duration.ofSeconds(30));
      }
      LOG.info("measured: SIGSTOP with a busy core x{} (CHAT_NODE_LOSS_S={}): offline after {} ms",
          repeat(), NODE_LOSS_S, tookMs);
    } finally {
      busy.set(false);
    }
  }

  /** What the surviving node logged about node losses, sweeps and transitions. */
  private static String survivorView(ProcessCluster cluster) {
    return cluster.node(0).log().lines()
        .filter(l -> l.contains("left the cluster") || l.contains("node loss")
            || l.contains("sweep") || l.contains(" is offline") || l.contains(" is online")
            || l.contains("friends of"))
        .collect(java.util.stream.Collectors.joining("\n"));
  }

  /** The PRESENCE offline messages the client received about these users. */
  private static List<JsonObject> offlineNotices(TestClient client, List<Integer> ids) {
    return client.all().stream().filter(m -> m.getInteger("msgid") == 103
            && ids.contains(m.getInteger("id")) && "offline".equals(m.getString("state")))
        .toList();
  }

  /** When the PRESENCE offline after {@code before} earlier ones arrived (nanoTime). */
  private static long noticeTime(TestClient client, int id, int before) {
    return client.receivedAt(m -> m.getInteger("msgid") == 103 && m.getInteger("id") == id
        && "offline".equals(m.getString("state")), before);
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void joinQuietly(Thread thread) {
    try {
      thread.join(5000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
