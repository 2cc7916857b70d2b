package chat.node;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
 * MySQL unreachable for a while: presence and chat between online users keep working, and
 * the user.state mirror converges once the database is back.
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
  void presenceAndChatCarryOnAndTheMirrorConvergesWhenTheDatabaseReturns() {
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
      a.chat(bId, "the database is down and we still talk");
      assertEquals("the database is down and we still talk", b.expect(6).getString("msg"));

      proxy.restore();
      Eventually.within(Duration.ofSeconds(15), () -> assertEquals("offline", db.state(leavingId)));
      assertEquals("online", db.state(aId));
      assertEquals("online", db.state(bId));
    }
  }
}
