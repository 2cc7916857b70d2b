package chat.node;

import static chat.node.ProcessCluster.befriend;
import static chat.node.ProcessCluster.idOf;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import chat.node.TestDatabase.FreshDatabase;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A three-node cluster with CHAT_CLUSTER_QUORUM=2 cut 1|2 by the network (iptables drops
 * every packet between one node's cluster ports and the others'): the single node stops
 * serving within CHAT_NODE_LOSS_S and marks nobody offline, the two others keep their users
 * online throughout, and once the cut heals the single node serves again and the rows show
 * exactly the live sessions.
 */
@ExtendWith(TestDatabase.Extension.class)
@Timeout(300)
class SplitBrainTest {

  private static final Logger LOG = LoggerFactory.getLogger(SplitBrainTest.class);
  private static final int NODE_LOSS_S = 5;

  @Test
  void theMinoritySideStopsServingAndTheMajorityKeepsItsUsersOnline(FreshDatabase database)
      throws Exception {
    String unavailable = NetworkCut.unavailableReason();
    Assumptions.assumeTrue(unavailable == null,
        () -> "split-brain test skipped: this machine cannot cut loopback traffic with iptables"
            + " as root (" + unavailable + ")");
    Db db = new Db(database.url());
    try (ProcessCluster cluster = new ProcessCluster(database.url(), 3, Map.of(
            "CHAT_CLUSTER_QUORUM", "2",
            "CHAT_NODE_LOSS_S", String.valueOf(NODE_LOSS_S)));
         NetworkCut net = new NetworkCut()) {
      // Each node waits for a quorum before it serves: start them together.
      cluster.launch(0, Map.of(), net.prefix());
      cluster.launch(1, Map.of(), List.of());
      cluster.launch(2, Map.of(), List.of());
      for (int i = 0; i < 3; i++) {
        cluster.node(i).awaitReady(1, Duration.ofSeconds(120));
      }
      TcpTestClient lonely = cluster.user(0, "lonely");
      TcpTestClient a = cluster.user(1, "a");
      TcpTestClient b = cluster.user(2, "b");
      int lonelyId = idOf(lonely);
      int aId = idOf(a);
      int bId = idOf(b);
      befriend(a, lonelyId);
      befriend(a, bId);
      befriend(b, lonelyId);
      Eventually.within(Duration.ofSeconds(5), () ->
          assertEquals(Set.of(lonelyId, aId, bId), new HashSet<>(db.onlineUsers())));

      // Watch the majority's users for the whole cut: never offline, in the rows or for friends.
      // The user who logs in on the majority during the cut is watched from its login on.
      List<String> violations = new CopyOnWriteArrayList<>();
      List<Integer> watched = new CopyOnWriteArrayList<>(List.of(aId, bId));
      long watchFrom = System.nanoTime();
      Thread watcher = new Thread(() -> {
        while (!Thread.currentThread().isInterrupted()) {
          for (int id : watched) {
            String state = db.state(id);
            if (!"online".equals(state)) {
              violations.add("user " + id + " was " + state + " in the database "
                  + (System.nanoTime() - watchFrom) / 1_000_000 + " ms after the watch began");
            }
          }
          try {
            Thread.sleep(100);
          } catch (InterruptedException e) {
            return;
          }
        }
      }, "split-watch");
      watcher.setDaemon(true);
      watcher.start();

      long cutAt = System.nanoTime();
      net.cut(cluster.clusterTrafficPorts(0),
          concat(cluster.clusterTrafficPorts(1), cluster.clusterTrafficPorts(2)));
      LOG.info("cut node p0 off from p1 and p2");

      // The single node stops serving within CHAT_NODE_LOSS_S: SERVER_CLOSING, then closed.
      JsonObject closing = lonely.expect(m -> m.getInteger("msgid") == 106, "SERVER_CLOSING",
          Duration.ofSeconds(NODE_LOSS_S + 10));
      long closedMs = (System.nanoTime() - cutAt) / 1_000_000;
      assertTrue(lonely.awaitClosed(Duration.ofSeconds(5)), "the minority kept its client");
      LOG.info("measured: cut 1|2 -> the single node closed its clients after {} ms ({})",
          closedMs, closing.encode());
      assertTrue(closedMs <= NODE_LOSS_S * 1000L,
          "the single node stopped serving " + closedMs + " ms after the cut");

      // The majority noticed too: the lonely user is offline, and a friend was told.
      Eventually.within(Duration.ofSeconds(NODE_LOSS_S + 2),
          () -> assertEquals("offline", db.state(lonelyId)));
      a.expect(m -> m.getInteger("msgid") == 103 && m.getInteger("id") == lonelyId
          && "offline".equals(m.getString("state")), "PRESENCE offline of the lonely user",
          Duration.ofSeconds(5));

      // The single node refuses clients while cut off: its old port is closed, and it does
      // not report ready again before the cut heals.
      int oldPort = cluster.node(0).tcpPort();
      assertTrue(refusesOrCloses(oldPort), "the minority still serves on port " + oldPort);
      // The majority serves as before.
      a.chat(bId, "still here");
      assertEquals("still here", b.expect(6).getString("msg"));
      TcpTestClient c = cluster.user(2, "c");
      int cId = idOf(c);
      Eventually.within(Duration.ofSeconds(5), () -> assertEquals("online", db.state(cId)));
      watched.add(cId);
      // Stay cut a while: nobody of the majority is touched by the lonely node.
      long cutFor = Math.max(0, 3 * NODE_LOSS_S * 1000L - (System.nanoTime() - cutAt) / 1_000_000);
      Thread.sleep(cutFor);
      assertEquals(1, cluster.node(0).readyCount(), "the cut-off node served again while cut");
      assertTrue(a.all().stream().noneMatch(m -> m.getInteger("msgid") == 103
          && m.getInteger("id") == bId && "offline".equals(m.getString("state"))),
          "a friend on the majority side was told b went offline");

      net.heal();
      long healedAt = System.nanoTime();
      LOG.info("healed the cut");
      cluster.node(0).awaitReady(2, Duration.ofSeconds(120));
      LOG.info("measured: cut healed -> the single node serves again after {} ms",
          (System.nanoTime() - healedAt) / 1_000_000);
      watcher.interrupt();
      watcher.join();
      assertEquals(List.of(), violations.size() <= 6 ? violations
              : List.of(violations.get(0), violations.get(1), "… " + (violations.size() - 4)
                  + " more …", violations.get(violations.size() - 2),
                  violations.get(violations.size() - 1)),
          "majority users shown offline during the cut (users " + lonelyId + ", " + aId + ", "
              + bId + ", " + cId + " are lonely, a, b, c; cut "
              + (cutAt - watchFrom) / 1_000_000 + " ms after the watch began)");

      // After the heal: the lonely user comes back on its node, and the rows equal the live
      // sessions (a, b, c, lonely), also as the friends see them.
      TcpTestClient back = cluster.connect(0);
      back.loginOk(lonelyId, "pw");
      Eventually.within(Duration.ofSeconds(10), () ->
          assertEquals(Set.of(lonelyId, aId, bId, cId), new HashSet<>(db.onlineUsers())));
      Eventually.within(Duration.ofSeconds(10), () -> assertEquals(
          Map.of(lonelyId, "online", bId, "online"),
          ProcessCluster.query(a, List.of(lonelyId, bId))));
      back.chat(aId, "back again");
      assertEquals("back again", a.expect(6).getString("msg"));
      a.close();
      Eventually.within(Duration.ofSeconds(10), () ->
          assertEquals(Set.of(lonelyId, bId, cId), new HashSet<>(db.onlineUsers())));
    }
  }

  private static List<Integer> concat(List<Integer> one, List<Integer> two) {
    List<Integer> all = new ArrayList<>(one);
    all.addAll(two);
    return all;
  }

  /** True if a client on this port is refused, or closed without being served. */
  private static boolean refusesOrCloses(int port) {
    StringBuilder reply = new StringBuilder();
    try (Socket probe = new Socket("127.0.0.1", port)) {
      probe.setSoTimeout(3000);
      probe.getOutputStream().write("{\"msgid\":100}\n".getBytes(StandardCharsets.UTF_8));
      byte[] buffer = new byte[4096];
      int n;
      while ((n = probe.getInputStream().read(buffer)) > 0) {
        reply.append(new String(buffer, 0, n, StandardCharsets.UTF_8));
      }
    } catch (SocketTimeoutException e) {
      // still open after 3 s: serving unless it never answered
    } catch (IOException e) {
      return true;
    }
    // A SERVER_CLOSING and a close are fine; a PONG means it serves.
    return !reply.toString().contains("\"msgid\":101");
  }
}
