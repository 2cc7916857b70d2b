package chat.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import chat.node.TestDatabase.FreshDatabase;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * MySQL unreachable for a while: presence keeps working; a chat, which must be in the message
 * log before anyone gets it, is refused with ERROR 503 and {@code retry_after_ms} and not
 * delivered, and goes through once the database is back; the user.state mirror converges.
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
  void presenceCarriesOnChatsAreRefused503AndTheMirrorConvergesWhenTheDatabaseReturns() {
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

      proxy.cut();
      leaving.abort();
      // The map knows at once, the database cannot be told yet.
      Eventually.within(Duration.ofSeconds(2), () -> {
        a.send(new JsonObject().put("msgid", 107).put("ids", new JsonArray().add(leavingId)));
        assertEquals("offline",
            a.expect(105).getJsonObject("states").getString(String.valueOf(leavingId)));
      });
      assertEquals("online", db.state(leavingId));
      a.send(new JsonObject().put("msgid", 6).put("toid", bId).put("msg", "not now")
          .put("seq", "down"));
      JsonObject refused = a.expect(m -> "down".equals(m.getValue("seq")), "the answer",
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
      assertEquals("back again", b.expect(6).getString("msg"), "the refused chat never came");
      // the rows catch up within the repair interval (the outage lasted the chat's retries)
      Eventually.within(Duration.ofSeconds(15), () -> {
        assertEquals("offline", db.state(leavingId));
        assertEquals("online", db.state(aId));
        assertEquals("online", db.state(bId));
      });
    }
  }
}
