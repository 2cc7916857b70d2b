package chat.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import chat.node.TestDatabase.FreshDatabase;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** One node on a real database, spoken to over TCP and WebSocket as clients do. */
@ExtendWith(TestDatabase.Extension.class)
@Timeout(60)
class SingleNodeTest {

  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(SingleNodeTest.class);
  private static TestNodes nodes;
  private static ChatNode node;
  private static Db db;

  @BeforeAll
  static void start(FreshDatabase database) {
    db = new Db(database.url());
    nodes = new TestNodes(database.url());
    node = nodes.start();
  }

  @AfterAll
  static void stop() {
    nodes.close();
  }


  @Test
  void registersAndLogsInByIdOrNameWithTheClassicFraming() {
    try (TcpTestClient client = TcpTestClient.classic(node.tcpPort())) {
      String name = TestNodes.unique("alice");
      int id = client.register(name, "pw");
      assertTrue(id > 0);

      client.send(new JsonObject().put("msgid", 4).put("name", name).put("password", "x"));
      JsonObject taken = client.expect(5);
      assertEquals(1, taken.getInteger("errno"));

      JsonObject bad = client.login(id, "wrong");
      assertEquals(1, bad.getInteger("errno"));
      assertNotNull(bad.getString("errmsg"));

      client.send(new JsonObject().put("msgid", 1).put("name", name).put("password", "pw"));
      JsonObject ack = client.expect(2);
      assertEquals(0, ack.getInteger("errno"));
      assertEquals(id, ack.getInteger("id"));
      assertEquals(name, ack.getString("name"));
      assertEquals(new JsonArray(), ack.getJsonArray("offlinemsg"));
      assertEquals(new JsonArray(), ack.getJsonArray("friends"));
      assertEquals(new JsonArray(), ack.getJsonArray("groups"));
      assertNotNull(ack.getString("token"));
      assertTrue(ack.getString("token").length() <= 64);
      assertEquals(new JsonObject().put("interval", 10).put("timeout", 25),
          ack.getJsonObject("heartbeat"));
      Eventually.within(Duration.ofSeconds(1), () -> assertEquals("online", db.state(id)));
    }
  }

  @Test
  void repliesEndWithTheTerminatorTheClientUsed() throws Exception {
    try (java.net.Socket socket = new java.net.Socket("127.0.0.1", node.tcpPort())) {
      socket.getOutputStream().write("{\"msgid\":100}\0".getBytes(StandardCharsets.UTF_8));
      byte[] reply = readUntil(socket, (byte) 0);
      assertEquals("{\"msgid\":101}\0", new String(reply, StandardCharsets.UTF_8));
      socket.getOutputStream().write("{\"msgid\":100,\"seq\":7}\n".getBytes(StandardCharsets.UTF_8));
      reply = readUntil(socket, (byte) '\n');
      assertEquals("{\"msgid\":101,\"seq\":7}\n", new String(reply, StandardCharsets.UTF_8));
    }
  }

  private static byte[] readUntil(java.net.Socket socket, byte end) throws Exception {
    socket.setSoTimeout(5000);
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    int b;
    while ((b = socket.getInputStream().read()) >= 0) {
      out.write(b);
      if (b == end) {
        break;
      }
    }
    return out.toByteArray();
  }

  @Test
  void twoClientsChatAndTheSenderComesFromTheSession() {
    try (TcpTestClient alice = TcpTestClient.classic(node.tcpPort());
         TcpTestClient bob = TcpTestClient.lines(node.tcpPort())) {
      int aliceId = alice.register(TestNodes.unique("alice"), "pw");
      int bobId = bob.register(TestNodes.unique("bob"), "pw");
      alice.loginOk(aliceId, "pw");
      bob.loginOk(bobId, "pw");

      // The classic client sends its own id and name: the server ignores them.
      alice.send(new JsonObject().put("msgid", 6).put("id", 999).put("name", "mallory")
          .put("toid", bobId).put("msg", "hello bob").put("time", "2024-01-01 00:00:00"));
      JsonObject got = bob.expect(6);
      assertEquals(aliceId, got.getInteger("id"));
      assertEquals(alice.all().get(1).getString("name"), got.getString("name"));
      assertEquals(bobId, got.getInteger("toid"));
      assertEquals("hello bob", got.getString("msg"));
      assertEquals("2024-01-01 00:00:00", got.getString("time"));
      assertNotNull(got.getString("msgno"));

      bob.chat(aliceId, "hi alice \"quoted\" 你好 😀");
      JsonObject back = alice.expect(6);
      assertEquals("hi alice \"quoted\" 你好 😀", back.getString("msg"));
      assertTrue(back.getString("time").matches("\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d"));
      bob.expectSilence(Duration.ofMillis(200));
    }
  }

  @Test
  void largeMessagesAndNamesWithQuotesAndEmojiGoThroughIntact() {
    String odd = "o'brien \"the\" 😀 中文 " + TestNodes.unique("x");
    try (TcpTestClient a = TcpTestClient.classic(node.tcpPort());
         WsTestClient b = WsTestClient.connect(node.httpPort())) {
      int aId = a.register(odd, "pa\"ss'wd");
      int bId = b.register(TestNodes.unique("b"), "pw");
      JsonObject ack = a.loginOk(aId, "pa\"ss'wd");
      assertEquals(odd, ack.getString("name"));
      b.loginOk(bId, "pw");
      // 60 KB of text, its JSON request still under the 64 KiB frame limit
      String big = "x".repeat(60_000) + "😀\"'\\";
      a.chat(bId, big);
      JsonObject got = b.expect(6);
      assertEquals(big, got.getString("msg"));
      assertEquals(odd, got.getString("name"));
      String groupName = "g \"quoted\" 😀 " + TestNodes.unique("g");
      a.send(new JsonObject().put("msgid", 8).put("groupname", groupName).put("groupdesc", "d'😀"));
      int groupId = a.expect(105).getInteger("groupid");
      b.send(new JsonObject().put("msgid", 9).put("groupid", groupId).put("seq", 1));
      b.expect(105);
      b.send(new JsonObject().put("msgid", 3).put("seq", 2));
      b.expect(105);
      b.send(new JsonObject().put("msgid", 1).put("id", bId).put("password", "pw")
          .put("format", "structured"));
      JsonObject group = b.expect(2).getJsonArray("groups").getJsonObject(0);
      assertEquals(groupName, group.getString("groupname"));
      assertEquals("d'😀", group.getString("groupdesc"));
    }
  }

  @Test
  void requestsSplitOrCoalescedAreAllHandledInOrder() {
    try (TcpTestClient client = TcpTestClient.classic(node.tcpPort())) {
      String twoPings = "{\"msgid\":100,\"seq\":1}\0{\"msgid\":100,\"seq\":2}{\"msgid\":100,\"seq\":3}\n";
      client.sendRaw(twoPings);
      assertEquals(1, client.expect(101).getInteger("seq"));
      assertEquals(2, client.expect(101).getInteger("seq"));
      assertEquals(3, client.expect(101).getInteger("seq"));
      byte[] one = "{\"msgid\":100,\"seq\":\"split\"}\0".getBytes(StandardCharsets.UTF_8);
      for (byte b : one) {
        client.sendRaw(new byte[] {b});
      }
      assertEquals("split", client.expect(101).getString("seq"));
    }
  }

  @Test
  void webSocketAndTcpUsersChat() {
    try (TcpTestClient tcp = TcpTestClient.classic(node.tcpPort());
         WsTestClient ws = WsTestClient.connect(node.httpPort())) {
      int tcpId = tcp.register(TestNodes.unique("tcp"), "pw");
      int wsId = ws.register(TestNodes.unique("ws"), "pw");
      tcp.loginOk(tcpId, "pw");
      ws.loginOk(wsId, "pw");
      tcp.chat(wsId, "to the browser");
      assertEquals("to the browser", ws.expect(6).getString("msg"));
      ws.chat(tcpId, "to the terminal");
      assertEquals("to the terminal", tcp.expect(6).getString("msg"));
    }
  }

  @Test
  void logoutAndAbruptExitBothSetTheUserOffline() {
    try (TcpTestClient client = TcpTestClient.classic(node.tcpPort())) {
      int id = client.register(TestNodes.unique("carol"), "pw");
      client.loginOk(id, "pw");
      Eventually.within(Duration.ofSeconds(1), () -> assertEquals("online", db.state(id)));
      client.send(new JsonObject().put("msgid", 3).put("id", id).put("seq", "bye"));
      assertEquals("bye", client.expect(105).getString("seq"));
      Eventually.within(Duration.ofSeconds(1), () -> assertEquals("offline", db.state(id)));

      // A visitor again: chat is refused, the connection stays usable.
      client.chat(id, "x");
      assertEquals(401, client.expect(104).getInteger("errno"));
      client.loginOk(id, "pw");
      Eventually.within(Duration.ofSeconds(1), () -> assertEquals("online", db.state(id)));
      client.abort();
      // The contract's bound: offline in the row within 1 s (Eventually fails after that).
      Duration took = Eventually.within(Duration.ofSeconds(1),
          () -> assertEquals("offline", db.state(id)));
      LOG.info("measured: client reset -> user offline in the database after {} ms",
          took.toMillis());
    }
  }

  @Test
  void healthEndpointsAnswer() throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    HttpResponse<String> live = http.send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + node.httpPort() + "/health/live")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, live.statusCode());
    HttpResponse<String> ready = http.send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + node.httpPort() + "/health/ready")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, ready.statusCode(), ready.body());
    HttpResponse<String> metrics = http.send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + node.httpPort() + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, metrics.statusCode());
    assertTrue(metrics.body().contains("chat_connections"), metrics.body());
    assertFalse(metrics.body().isEmpty());
  }
}
