package chat.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import chat.node.TestDatabase.FreshDatabase;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * /health/ready means "this pod can take clients": its listeners, the cluster, its services.
 * A database outage does not make it unready (logins get 503, chat goes on); a gateway with
 * no service to talk to is unready.
 */
@ExtendWith(TestDatabase.Extension.class)
@Timeout(90)
class ReadinessTest {

  private static TcpProxy proxy;
  private static TestNodes nodes;
  private static ChatNode node;
  private static String database;

  @BeforeAll
  static void start(FreshDatabase database) {
    ReadinessTest.database = database.url();
    proxy = TcpProxy.inFrontOf(database.url());
    nodes = new TestNodes(proxy.through(database.url()), Map.of("CHAT_INTERNAL_PORT", "0"));
    node = nodes.start();
  }

  @AfterAll
  static void stop() {
    proxy.restore();
    nodes.close();
    proxy.close();
  }

  private static HttpResponse<String> ready(int port) {
    return Scrape.get(port, "/health/ready");
  }

  private static JsonObject checks(HttpResponse<String> response) {
    return new JsonObject(response.body()).getJsonObject("checks");
  }

  @Test
  void aDatabaseOutageKeepsThePodReadyWhileLoginsGet503AndChatGoesOn() {
    HttpResponse<String> healthy = ready(node.internalPort());
    assertEquals(200, healthy.statusCode(), healthy.body());
    assertEquals(new JsonObject().put("listeners", "up").put("cluster", "joined")
        .put("presence", "up").put("user", "up").put("database", "up"), checks(healthy));
    try (TcpTestClient a = TcpTestClient.lines(node.tcpPort());
         TcpTestClient b = TcpTestClient.lines(node.tcpPort());
         TcpTestClient late = TcpTestClient.lines(node.tcpPort());
         TcpTestClient leaving = TcpTestClient.lines(node.tcpPort())) {
      int aId = a.register(TestNodes.unique("r-a"), "pw");
      int bId = b.register(TestNodes.unique("r-b"), "pw");
      int lateId = late.register(TestNodes.unique("r-late"), "pw");
      int leavingId = leaving.register(TestNodes.unique("r-leaving"), "pw");
      a.loginOk(aId, "pw");
      b.loginOk(bId, "pw");
      leaving.loginOk(leavingId, "pw");
      Db db = new Db(database);
      Eventually.within(Duration.ofSeconds(5), () -> assertEquals("online", db.state(leavingId)));
      a.chat(bId, "before");
      assertEquals("before", b.expect(6).getString("msg"));

      proxy.cut();
      Eventually.within(Duration.ofSeconds(10), () -> assertTrue(
          Set.of("down", "unknown").contains(checks(ready(node.internalPort())).getString("database"))));
      for (int i = 0; i < 5; i++) {
        HttpResponse<String> during = ready(node.internalPort());
        assertEquals(200, during.statusCode(), during.body());
      }
      late.send(new JsonObject().put("msgid", 1).put("id", lateId).put("password", "pw"));
      assertEquals(503, late.expect(104).getInteger("errno"));
      a.chat(bId, "no database, still talking");
      assertEquals("no database, still talking", b.expect(6).getString("msg"));
      // A user who leaves meanwhile: the row's write waits in the mirror's backlog.
      leaving.close();
      Eventually.within(Duration.ofSeconds(10), () -> assertTrue(
          Scrape.of(node.internalPort()).value("chat_presence_mirror_backlog") > 0,
          "the offline row of the user who left waits for the database"));

      proxy.restore();
      Eventually.within(Duration.ofSeconds(15),
          () -> assertEquals("up", checks(ready(node.internalPort())).getString("database")));
      Eventually.within(Duration.ofSeconds(30), () -> {
        assertEquals(0, Scrape.of(node.internalPort()).value("chat_presence_mirror_backlog"));
        assertEquals("offline", db.state(leavingId));
      });
    }
  }

  @Test
  void aGatewayWithNoServiceToTalkToIsNotReady() {
    try (TestNodes alone = new TestNodes("mysql://nobody:x@127.0.0.1:1/none",
        Map.of("CHAT_ROLES", "gateway"))) {
      ChatNode gateway = alone.start();
      HttpResponse<String> response = ready(gateway.httpPort());
      assertEquals(503, response.statusCode(), response.body());
      assertEquals("down", checks(response).getString("user"));
      assertEquals("down", checks(response).getString("presence"));
      assertEquals("joined", checks(response).getString("cluster"));
    }
  }

  @Test
  void thePreStopHookMakesThePodUnreadyBeforeTheDrain() {
    try (TestNodes stopping = new TestNodes(proxy.through(database), Map.of())) {
      ChatNode doomed = stopping.start();
      assertEquals(200, ready(doomed.httpPort()).statusCode());
      long started = System.nanoTime();
      assertEquals(200, Scrape.get(doomed.httpPort(), "/health/prestop?delay_ms=300").statusCode());
      assertTrue(System.nanoTime() - started >= 300_000_000L, "the hook returns after its delay");
      HttpResponse<String> after = ready(doomed.httpPort());
      assertEquals(503, after.statusCode());
      assertEquals("stopping", checks(after).getString("listeners"));
      assertEquals(400, Scrape.get(doomed.httpPort(), "/health/prestop?delay_ms=x").statusCode());
    }
  }

  @Test
  void theInternalPortAloneServesHealthMetricsAndTheApi() {
    assertEquals(200, Scrape.get(node.internalPort(), "/health/live").statusCode());
    assertEquals(200, Scrape.get(node.internalPort(), "/api/presence/1").statusCode());
    for (String path : new String[] {"/health/ready", "/metrics", "/api/presence/1"}) {
      assertEquals(404, Scrape.get(node.httpPort(), path).statusCode(), path);
    }
    assertEquals(200, Scrape.get(node.httpPort(), "/").statusCode());
  }
}
