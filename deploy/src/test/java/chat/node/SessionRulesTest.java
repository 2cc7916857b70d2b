package chat.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import chat.node.TestDatabase.FreshDatabase;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The session rules of the contract: liveness (heartbeat, auth timeout), resume tokens, the
 * login conflict policies, and presence queries.
 */
@ExtendWith(TestDatabase.Extension.class)
@Timeout(90)
class SessionRulesTest {

  private static TestNodes kickNodes;
  private static TestNodes rejectNodes;
  private static TestNodes multiNodes;
  private static ChatNode node;
  private static ChatNode rejecting;
  private static ChatNode multi;
  private static Db db;
  private static Db rejectDb;
  private static Db multiDb;

  @BeforeAll
  static void start(FreshDatabase database, FreshDatabase rejectDatabase,
                    FreshDatabase multiDatabase) {
    // Each cluster has its own database: a cluster reconciles every 'online' row of its
    // database against its own online map.
    db = new Db(database.url());
    Map<String, String> quick = Map.of(
        "CHAT_HEARTBEAT_INTERVAL_S", "1",
        "CHAT_HEARTBEAT_TIMEOUT_S", "2",
        "CHAT_AUTH_TIMEOUT_S", "3");
    kickNodes = new TestNodes(database.url(), quick);
    node = kickNodes.start();
    rejectDb = new Db(rejectDatabase.url());
    multiDb = new Db(multiDatabase.url());
    rejectNodes = new TestNodes(rejectDatabase.url(), Map.of("CHAT_LOGIN_CONFLICT", "reject"));
    rejecting = rejectNodes.start();
    multiNodes = new TestNodes(multiDatabase.url(), Map.of("CHAT_LOGIN_CONFLICT", "multi"));
    multi = multiNodes.start();
  }

  @AfterAll
  static void stop() {
    kickNodes.close();
    rejectNodes.close();
    multiNodes.close();
  }


  @Test
  void aPingingClientThatGoesSilentIsDroppedAfterItsTimeout() {
    try (TcpTestClient client = TcpTestClient.classic(node.tcpPort())) {
      int id = client.register(TestNodes.unique("pinger"), "pw");
      // The server last hears the client when the LOGIN arrives: after it was sent and before
      // its ack came back. So the lower bound is measured from the send and the upper one from
      // the ack (on a loaded machine answering the LOGIN takes a while: that time must count
      // against neither bound).
      long sentAt = System.nanoTime();
      client.send(new JsonObject().put("msgid", 1).put("id", id).put("password", "pw")
          .put("heartbeat", true));
      JsonObject ack = client.expect(2);
      long ackedAt = System.nanoTime();
      assertEquals(new JsonObject().put("interval", 1).put("timeout", 2), ack.getJsonObject("heartbeat"));
      assertTrue(client.awaitClosed(Duration.ofSeconds(5)), "silent client not dropped");
      long closedAt = System.nanoTime();
      long sinceSent = Duration.ofNanos(closedAt - sentAt).toMillis();
      long sinceAck = Duration.ofNanos(closedAt - ackedAt).toMillis();
      assertTrue(sinceSent >= 1900, "dropped " + sinceSent + " ms after its last byte");
      assertTrue(sinceAck < 3500, "dropped " + sinceAck + " ms after the LOGIN ack");
      Eventually.within(Duration.ofSeconds(1), () -> assertEquals("offline", db.state(id)));
    }
  }

  @Test
  void aClientThatKeepsPingingAndAClassicClientThatNeverPingsStayConnected() throws Exception {
    try (TcpTestClient pinger = TcpTestClient.classic(node.tcpPort());
         TcpTestClient classic = TcpTestClient.classic(node.tcpPort())) {
      int pingerId = pinger.register(TestNodes.unique("steady"), "pw");
      int classicId = classic.register(TestNodes.unique("classic"), "pw");
      pinger.loginOk(pingerId, "pw");
      classic.loginOk(classicId, "pw");
      for (int i = 0; i < 8; i++) {
        pinger.send(new JsonObject().put("msgid", 100).put("seq", i));
        assertEquals(i, pinger.expect(101).getInteger("seq"));
        Thread.sleep(500);
      }
      assertFalse(pinger.awaitClosed(Duration.ZERO));
      assertFalse(classic.awaitClosed(Duration.ZERO));
      assertEquals("online", db.state(classicId));
    }
  }

  @Test
  void aVisitorThatNeverLogsInIsClosedAfterTheAuthTimeout() {
    try (TcpTestClient visitor = TcpTestClient.classic(node.tcpPort())) {
      assertFalse(visitor.awaitClosed(Duration.ofMillis(2000)));
      assertTrue(visitor.awaitClosed(Duration.ofSeconds(3)));
    }
  }

  @Test
  void aTokenResumesOnlyItsOwnAccountAndDiesWithLogout() {
    String token;
    int id;
    int otherId;
    try (TcpTestClient client = TcpTestClient.lines(node.tcpPort())) {
      id = client.register(TestNodes.unique("resumer"), "pw");
      otherId = client.register(TestNodes.unique("victim"), "pw");
      token = client.loginOk(id, "pw").getString("token");
      client.close();
    }
    try (TcpTestClient client = TcpTestClient.lines(node.tcpPort())) {
      client.send(new JsonObject().put("msgid", 1).put("id", otherId).put("token", token));
      assertEquals(1, client.expect(2).getInteger("errno"));
      client.send(new JsonObject().put("msgid", 1).put("id", id).put("token", token + "x"));
      assertEquals(1, client.expect(2).getInteger("errno"));
      client.send(new JsonObject().put("msgid", 1).put("id", id).put("token", token));
      JsonObject resumed = client.expect(2);
      assertEquals(0, resumed.getInteger("errno"));
      assertNotEquals(token, resumed.getString("token"));
      client.send(new JsonObject().put("msgid", 3).put("seq", 1));
      client.expect(105);
      client.send(new JsonObject().put("msgid", 1).put("id", id).put("token", token));
      assertEquals(1, client.expect(2).getInteger("errno"));
      client.send(new JsonObject().put("msgid", 1).put("id", id)
          .put("token", resumed.getString("token")));
      assertEquals(1, client.expect(2).getInteger("errno"), "logout revokes every earlier token");
    }
  }

  @Test
  void policyRejectRefusesASecondLoginWithErrno2() {
    try (TcpTestClient first = TcpTestClient.classic(rejecting.tcpPort());
         TcpTestClient second = TcpTestClient.classic(rejecting.tcpPort())) {
      int id = first.register(TestNodes.unique("once"), "pw");
      first.loginOk(id, "pw");
      JsonObject refused = second.login(id, "pw");
      assertEquals(2, refused.getInteger("errno"));
      first.send(new JsonObject().put("msgid", 100).put("seq", "still"));
      assertEquals("still", first.expect(101).getString("seq"));
      first.abort();
      Eventually.within(Duration.ofSeconds(1), () -> assertEquals("offline", rejectDb.state(id)));
      second.loginOk(id, "pw");
    }
  }

  @Test
  void policyMultiKeepsBothSessionsAndDeliversToEach() {
    try (TcpTestClient phone = TcpTestClient.classic(multi.tcpPort());
         WsTestClient laptop = WsTestClient.connect(multi.httpPort());
         TcpTestClient sender = TcpTestClient.classic(multi.tcpPort())) {
      int id = phone.register(TestNodes.unique("multi"), "pw");
      int senderId = sender.register(TestNodes.unique("sender"), "pw");
      phone.loginOk(id, "pw");
      laptop.loginOk(id, "pw");
      sender.loginOk(senderId, "pw");
      sender.chat(id, "to both");
      assertEquals("to both", phone.expect(6).getString("msg"));
      assertEquals("to both", laptop.expect(6).getString("msg"));
      phone.abort();
      laptop.expectSilence(Duration.ofMillis(300));
      assertEquals("online", multiDb.state(id), "one session left: still online");
      laptop.close();
      Eventually.within(Duration.ofSeconds(1), () -> assertEquals("offline", multiDb.state(id)));
    }
  }

  @Test
  void presenceCanBeQueriedOnTheWireAndOverHttp() throws Exception {
    try (TcpTestClient a = TcpTestClient.classic(node.tcpPort());
         TcpTestClient b = TcpTestClient.classic(node.tcpPort())) {
      int aId = a.register(TestNodes.unique("qa"), "pw");
      int bId = b.register(TestNodes.unique("qb"), "pw");
      a.loginOk(aId, "pw");
      a.send(new JsonObject().put("msgid", 107).put("ids", new JsonArray().add(aId).add(bId))
          .put("seq", "q"));
      JsonObject ack = a.expect(105);
      assertEquals("q", ack.getString("seq"));
      assertEquals(new JsonObject().put(String.valueOf(aId), "online")
          .put(String.valueOf(bId), "offline"), ack.getJsonObject("states"));
      HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
              URI.create("http://127.0.0.1:" + node.httpPort() + "/api/presence/" + aId)).build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(200, response.statusCode());
      assertEquals("online", new JsonObject(response.body()).getString("state"));
    }
  }
}
