package chat.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import chat.node.TestDatabase.FreshDatabase;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logins that time out while the node holding the users' old sessions is frozen (shorter
 * than the failure detector allows, so it comes back as the same member, and presence
 * requests it was handling are answered late or never): once CHAT_REPAIR_S has passed
 * after the thaw, every user is online in the database if and only if one of its
 * connections is really logged in, and none has two.
 */
@ExtendWith(TestDatabase.Extension.class)
@Timeout(240)
@Tag("heal")
class TimedOutLoginTest {

  private static final Logger LOG = LoggerFactory.getLogger(TimedOutLoginTest.class);
  private static final int USERS = 6;
  private static final int REPAIR_S = 10;

  @Test
  void loginsTimedOutDuringAFrozenKickLeaveNoGhostAfterTheRepairPeriod(FreshDatabase database)
      throws Exception {
    Db db = new Db(database.url());
    try (ProcessCluster cluster = new ProcessCluster(database.url(), 2, Map.of(
        "CHAT_NODE_LOSS_S", "5",
        "CHAT_REQUEST_TIMEOUT_MS", "2000",
        "CHAT_KICK_TIMEOUT_MS", "1000",
        "CHAT_REPAIR_S", String.valueOf(REPAIR_S)))) {
      NodeProcess old = cluster.start(0);
      cluster.start(1);
      Map<Integer, List<TcpTestClient>> clients = new HashMap<>();
      for (int i = 0; i < USERS; i++) {
        // With 2-s request timeouts on a busy machine, a setup login may be refused: retry.
        TcpTestClient first = cluster.connect(0);
        int id = first.register(TestNodes.unique("timed-out"), "pw");
        Eventually.within(Duration.ofSeconds(30),
            () -> assertEquals(0, first.login(id, "pw").getInteger("errno")));
        clients.computeIfAbsent(id, k -> new ArrayList<>()).add(first);
      }
      for (int id : clients.keySet()) {
        Eventually.within(Duration.ofSeconds(5), () -> assertEquals("online", db.state(id)));
      }

      // Freeze the old node for 3 s (it is declared dead only after 4 s of silence) and log
      // every user in on the other node meanwhile: kicks and presence requests that reach
      // the frozen node go unanswered until it wakes, and the logins time out after 2 s.
      old.freeze();
      long frozenAt = System.nanoTime();
      List<TcpTestClient> fresh = new ArrayList<>();
      for (int id : clients.keySet()) {
        TcpTestClient again = cluster.connect(1);
        again.send(new JsonObject().put("msgid", 1).put("id", id).put("password", "pw"));
        clients.get(id).add(again);
        fresh.add(again);
      }
      Thread.sleep(Math.max(0, 3000 - (System.nanoTime() - frozenAt) / 1_000_000));
      old.thaw();
      int succeeded = 0;
      for (TcpTestClient again : fresh) {
        JsonObject answer = again.expect(m -> m.getInteger("msgid") == 2
            || m.getInteger("msgid") == 104, "login answer", Duration.ofSeconds(15));
        if (answer.getInteger("msgid") == 2 && answer.getInteger("errno") == 0) {
          succeeded++;
        }
      }
      LOG.info("{} of {} logins during the freeze succeeded; waiting CHAT_REPAIR_S={}",
          succeeded, USERS, REPAIR_S);

      Thread.sleep(REPAIR_S * 1000L + 2000);
      List<String> wrong = new ArrayList<>();
      for (Map.Entry<Integer, List<TcpTestClient>> user : clients.entrySet()) {
        int live = 0;
        for (TcpTestClient client : user.getValue()) {
          if (loggedIn(client, user.getKey())) {
            live++;
          }
        }
        String row = db.state(user.getKey());
        if (live > 1) {
          wrong.add("user " + user.getKey() + " has " + live + " live sessions");
        }
        if (!row.equals(live > 0 ? "online" : "offline")) {
          wrong.add("user " + user.getKey() + " is " + row + " with " + live + " live sessions");
        }
      }
      assertEquals(List.of(), wrong, "after CHAT_REPAIR_S");
      assertTrue(old.isAlive());
    }
  }

  /** Whether this connection is really logged in: a PRESENCE_QUERY is served, not refused. */
  private static boolean loggedIn(TcpTestClient client, int id) {
    if (client.awaitClosed(Duration.ZERO)) {
      return false;
    }
    String seq = "probe-" + UUID.randomUUID();
    try {
      client.send(new JsonObject().put("msgid", 107).put("ids", new JsonArray().add(id))
          .put("seq", seq));
    } catch (RuntimeException e) {
      return false;
    }
    try {
      JsonObject answer = client.expect(m -> seq.equals(m.getString("seq"))
          || m.getInteger("msgid") == 104, "probe answer", Duration.ofSeconds(5));
      return answer.getInteger("msgid") == 105;
    } catch (AssertionError e) {
      return false;
    }
  }
}
