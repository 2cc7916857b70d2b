package chat.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import chat.node.TestDatabase.FreshDatabase;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * MySQL unreachable for a while: presence keeps working; chat between online users goes on
 * (a chat to a user the sender's lane already knows exists is delivered and logged once the
 * database is back, in its place); a chat that needs the database (to a user not known yet,
 * or to store) is refused with ERROR 503 and {@code retry_after_ms}; the user.state mirror
 * converges.
 */
@ExtendWith(TestDatabase.Extension.class)
@Timeout(90)
class DatabaseOutageTest {

  private static TcpProxy proxy;
  private static TestNodes nodes;
  private static ChatNode node;
  private static Db db;

  @BeforeAll
  static void start(FreshDatabase database) {
    db = new Db(database.url());
    proxy = TcpProxy.inFrontOf(database.url());
    nodes = new TestNodes(proxy.through(database.url()), Map.of());
    node = nodes.start();
  }

  @AfterAll
  static void stop() {
    proxy.restore();
    nodes.close();
    proxy.close();
  }


  @Test
  void presenceAndChatCarryOnAndHistoryAndTheMirrorCatchUpWhenTheDatabaseReturns() {
    try (TcpTestClient leaving = TcpTestClient.classic(node.tcpPort());
         TcpTestClient a = TcpTestClient.classic(node.tcpPort());
         TcpTestClient b = TcpTestClient.lines(node.tcpPort())) {
      int leavingId = leaving.register(TestNodes.unique("leaving"), "pw");
      int aId = a.register(TestNodes.unique("a"), "pw");
      int bId = b.register(TestNodes.unique("b"), "pw");
      leaving.loginOk(leavingId, "pw");
      a.loginOk(aId, "pw");
      b.loginOk(bId, "pw");
      Eventually.within(Duration.ofSeconds(1), () -> assertEquals("online", db.state(leavingId)));
      a.send(new JsonObject().put("msgid", 6).put("toid", bId).put("msg", "before")
          .put("seq", "before"));
      assertEquals(105, a.expect(m -> "before".equals(m.getValue("seq")), "the answer",
          Duration.ofSeconds(10)).getInteger("msgid"));
      assertEquals("before", b.expect(6).getString("msg"));

      proxy.cut();
      leaving.abort();
      // The map knows at once, the database cannot be told yet.
      Eventually.within(Duration.ofSeconds(2), () -> {
        a.send(new JsonObject().put("msgid", 107).put("ids", new JsonArray().add(leavingId)));
        assertEquals("offline",
            a.expect(105).getJsonObject("states").getString(String.valueOf(leavingId)));
      });
      assertEquals("online", db.state(leavingId));
      a.send(new JsonObject().put("msgid", 6).put("toid", bId).put("msg", "no database")
          .put("seq", "down"));
      JsonObject carried = a.expect(m -> "down".equals(m.getValue("seq")), "the answer",
          Duration.ofSeconds(30));
      assertEquals(105, carried.getInteger("msgid"), carried::encode);
      assertEquals("no database", b.expect(6).getString("msg"));
      // To a user this sender never wrote to (and who is away): needs the database.
      a.send(new JsonObject().put("msgid", 6).put("toid", leavingId).put("msg", "not now")
          .put("seq", "refused"));
      JsonObject refused = a.expect(m -> "refused".equals(m.getValue("seq")), "the answer",
          Duration.ofSeconds(30));
      assertEquals(104, refused.getInteger("msgid"), refused::encode);
      assertEquals(503, refused.getInteger("errno"), refused::encode);
      assertTrue(refused.getLong("retry_after_ms") > 0, refused::encode);

      proxy.restore();
      Eventually.within(Duration.ofSeconds(30), () -> {
        a.send(new JsonObject().put("msgid", 6).put("toid", bId).put("msg", "back again")
            .put("seq", "up"));
        JsonObject answer = a.expect(m -> "up".equals(m.getValue("seq")), "the answer",
            Duration.ofSeconds(30));
        assertEquals(105, answer.getInteger("msgid"), answer::encode);
      });
      assertEquals("back again", b.expect(6).getString("msg"), "the chat never came");
      // The chat delivered during the outage took its place in history once it was back.
      AtomicInteger reads = new AtomicInteger();
      Eventually.within(Duration.ofSeconds(10), () -> {
        String seq = "history-" + reads.incrementAndGet();
        a.send(new JsonObject().put("msgid", 110).put("with", bId).put("seq", seq));
        JsonObject history = a.expect(m -> seq.equals(m.getValue("seq")), "HISTORY",
            Duration.ofSeconds(10));
        List<String> texts = new java.util.ArrayList<>();
        history.getJsonArray("messages")
            .forEach(m -> texts.add(((JsonObject) m).getString("msg")));
        assertEquals(List.of("before", "no database", "back again"), texts, history::encode);
      });
      // the rows catch up within the repair interval (the outage lasted the chat's retries)
      Eventually.within(Duration.ofSeconds(15), () -> {
        assertEquals("offline", db.state(leavingId));
        assertEquals("online", db.state(aId));
        assertEquals("online", db.state(bId));
      });
    }
  }
}
