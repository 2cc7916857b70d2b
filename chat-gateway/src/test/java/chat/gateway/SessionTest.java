package chat.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import chat.gateway.session.Session;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A session through real sockets on a local gateway: the visitor/user life, framing to
 * requests, stored messages (acknowledged pages and classic), REG under load, back-pressure
 * in and out.
 */
@Timeout(90)
class SessionTest {

  private GatewayHarness harness;

  @AfterEach
  void stop() throws Exception {
    if (harness != null) {
      harness.close();
    }
  }

  private FakeServices start(JsonObject settings) throws Exception {
    harness = GatewayHarness.start(settings);
    return harness.services;
  }

  private static JsonObject stored(int from, int to, int i) {
    return new JsonObject().put("msgid", 6).put("id", from).put("name", "s").put("toid", to)
        .put("msg", String.valueOf(i)).put("time", "2026-01-01 00:00:00").put("msgno", "m" + i);
  }

  @Test
  void aVisitorMayOnlyLogInOrRegisterAndAUserLogsOutToAVisitorAgain() throws Exception {
    FakeServices services = start(new JsonObject());
    int bob = services.user("bob");
    try (TestClient client = TestClient.connect(harness.port())) {
      // Two requests in one segment, the second split: both handled, in order.
      byte[] both = ("{\"msgid\":6,\"toid\":1,\"msg\":\"x\",\"seq\":1}\n{\"msgid\":110,\"wi")
          .getBytes(StandardCharsets.UTF_8);
      client.sendRaw(both);
      client.sendRaw("th\":1,\"seq\":2}\0".getBytes(StandardCharsets.UTF_8));
      JsonObject first = client.expect(104);
      assertEquals(401, first.getInteger("errno"));
      assertEquals(1, first.getInteger("seq"));
      JsonObject second = client.expect(104);
      assertEquals(401, second.getInteger("errno"));
      assertEquals(2, second.getInteger("seq"));
      client.login(bob);
      client.send(new JsonObject().put("msgid", 1).put("id", bob).put("password", "pw"));
      assertEquals(409, client.expect(104).getInteger("errno"));
      client.send(new JsonObject().put("msgid", 110).put("with", 1).put("groupid", 2));
      assertEquals(400, client.expect(104).getInteger("errno"));
      client.send(new JsonObject().put("msgid", 110).put("with", 1).put("limit", 500)
          .put("seq", "h"));
      JsonObject history = client.expect(105);
      assertEquals(110, history.getInteger("ref"));
      assertEquals("h", history.getString("seq"));
      assertTrue(history.containsKey("messages") && history.containsKey("more"));
      assertEquals(200, services.lastHistoryQuery.getInteger("limit"), "served as 200");
      client.send(new JsonObject().put("msgid", 109).put("upto", "nope"));
      assertEquals(404, client.expect(104).getInteger("errno"));
      client.send(new JsonObject().put("msgid", 3).put("seq", 3));
      assertEquals(3, client.expect(105).getInteger("ref"));
      client.send(new JsonObject().put("msgid", 6).put("toid", bob).put("msg", "x"));
      assertEquals(401, client.expect(104).getInteger("errno"));
      client.login(bob);
    }
  }

  @Test
  void storedMessagesComeInAcknowledgedPagesAndUnacknowledgedOnesComeAgain() throws Exception {
    FakeServices services = start(new JsonObject());
    int bob = services.user("bob");
    for (int i = 0; i < 450; i++) {
      services.store(bob, stored(1, bob, i));
    }
    JsonObject ackMode = new JsonObject().put("offline", "ack").put("format", "structured");
    List<String> seen = new ArrayList<>();
    try (TestClient client = TestClient.connect(harness.port())) {
      JsonObject ack = client.login(bob, ackMode);
      assertTrue(ack.getBoolean("offline_more"));
      JsonArray page = ack.getJsonArray("offlinemsg");
      assertEquals(200, page.size());
      page.forEach(m -> seen.add(((JsonObject) m).getString("msgno")));
      client.send(new JsonObject().put("msgid", 109).put("upto", "m199").put("seq", 1));
      JsonObject next = client.expect(105);
      assertEquals(109, next.getInteger("ref"));
      assertTrue(next.getBoolean("offline_more"));
      assertEquals(200, next.getJsonArray("offlinemsg").size());
      assertEquals("m200", next.getJsonArray("offlinemsg").getJsonObject(0).getString("msgno"));
      assertEquals(250, services.mailbox(bob).size(), "exactly the acknowledged ones went");
      client.crash();
    }
    try (TestClient client = TestClient.connect(harness.port())) {
      JsonObject ack = client.login(bob, ackMode);
      JsonArray page = ack.getJsonArray("offlinemsg");
      assertEquals("m200", page.getJsonObject(0).getString("msgno"), "again, same msgno");
      assertEquals("200", page.getJsonObject(0).getString("msg"));
      client.send(new JsonObject().put("msgid", 109).put("upto", "m399").put("seq", 2));
      JsonObject last = client.expect(105);
      assertFalse(last.getBoolean("offline_more"));
      assertEquals(50, last.getJsonArray("offlinemsg").size());
      client.send(new JsonObject().put("msgid", 109).put("upto", "m449").put("seq", 3));
      JsonObject empty = client.expect(105);
      assertEquals(0, empty.getJsonArray("offlinemsg").size());
      assertFalse(empty.getBoolean("offline_more"));
    }
    assertEquals(List.of(), services.mailbox(bob));
  }

  @Test
  void aClassicClientThatResetsBeforeReadingItsLoginAckLosesNothing() throws Exception {
    FakeServices services = start(new JsonObject());
    int bob = services.user("bob");
    for (int i = 0; i < 30; i++) {
      services.store(bob, stored(1, bob, i));
    }
    try (TestClient client = TestClient.connect(harness.port(), false, 0)) {
      client.send(new JsonObject().put("msgid", 1).put("id", bob).put("password", "pw"));
      Eventually.holds("logged in", 5000, () -> !services.sessionsOf(bob).isEmpty());
      Thread.sleep(200);
      client.crash();
    }
    Thread.sleep(1500);
    assertEquals(30, services.mailbox(bob).size(), "kept for the next login");
    try (TestClient client = TestClient.connect(harness.port())) {
      JsonArray offline = client.login(bob).getJsonArray("offlinemsg");
      assertEquals(30, offline.size());
      for (int i = 0; i < 30; i++) {
        assertEquals(String.valueOf(i), new JsonObject(offline.getString(i)).getString("msg"));
      }
      Eventually.holds("acknowledged once read", 5000, () -> services.mailbox(bob).isEmpty());
    }
  }

  @Test
  void registrationRefusedForLoadIs503WithRetryAfter() throws Exception {
    FakeServices services = start(new JsonObject());
    services.passwordsOverloaded = true;
    try (TestClient client = TestClient.connect(harness.port())) {
      client.send(new JsonObject().put("msgid", 4).put("name", "n").put("password", "pw")
          .put("seq", 7));
      JsonObject error = client.expect(104);
      assertEquals(503, error.getInteger("errno"));
      assertEquals(4, error.getInteger("ref"));
      long retry = error.getLong("retry_after_ms");
      assertTrue(retry >= 500 && retry <= 1500, error.encode());
      services.passwordsOverloaded = false;
      client.send(new JsonObject().put("msgid", 4).put("name", "n").put("password", "pw"));
      assertEquals(0, client.expect(5).getInteger("errno"));
    }
  }

  @Test
  void unreadRequestsAreBoundedInBytesByNotReadingTheSocket() throws Exception {
    FakeServices services = start(new JsonObject().put("rateLimitPerSecond", 100_000));
    int alice = services.user("alice");
    int bob = services.user("bob");
    services.appendsHang = true;
    String pad = "p".repeat(30_000);
    int count = 600; // 18 MB: more than the kernel buffers of a loopback connection can take
    try (TestClient client = TestClient.connect(harness.port())) {
      client.login(alice);
      Session session = harness.gateway.sessions().sessionsOf(alice).get(0);
      Thread writer = new Thread(() -> {
        for (int i = 0; i < count; i++) {
          client.send(new JsonObject().put("msgid", 6).put("toid", bob).put("msg", i + pad));
        }
      });
      writer.setDaemon(true);
      writer.start();
      long bound = harness.gateway.sessions().sessionsOf(alice).isEmpty() ? 0 : 2 * 65536;
      long max = 0;
      for (int i = 0; i < 40; i++) {
        max = Math.max(max, session.heldBytes());
        Thread.sleep(50);
      }
      assertTrue(writer.isAlive(), "the client is held back: " + count + " x 30 KB not all taken");
      // The bound, plus what one read from the socket may hold beyond it.
      assertTrue(max <= bound + 3 * 31_000, "held " + max + " bytes");
      assertTrue(max > 0);
      client.crash();
    }
  }

  @Test
  void aClientThatStopsReadingIsCutOffAtOnceAndItsUnwrittenChatsAreStoredInOrder()
      throws Exception {
    FakeServices services = start(new JsonObject().put("rateLimitPerSecond", 100_000)
        .put("outboundMaxBytes", 262_144).put("slowConsumerGraceMs", 300L));
    int alice = services.user("alice");
    int bob = services.user("bob");
    int count = 300;
    String pad = "p".repeat(30_000);
    try (TestClient sender = TestClient.connect(harness.port());
         TestClient slow = TestClient.connect(harness.port(), false, 4096)) {
      sender.login(alice);
      slow.send(new JsonObject().put("msgid", 1).put("id", bob).put("password", "pw"));
      Eventually.holds("bob logged in", 5000, () -> !services.sessionsOf(bob).isEmpty());
      for (int i = 0; i < count; i++) {
        sender.send(new JsonObject().put("msgid", 6).put("toid", bob).put("msg", i + ":" + pad)
            .put("seq", i));
      }
      for (int i = 0; i < count; i++) {
        assertEquals(0, sender.expect(105).getInteger("errno"));
      }
      Eventually.holds("bob shown offline", 5000, () -> services.sessionsOf(bob).isEmpty());
    }
    List<Integer> kept = services.mailbox(bob).stream()
        .map(m -> Integer.parseInt(m.getString("msg").split(":")[0])).toList();
    assertFalse(kept.isEmpty(), "the slow reader was cut off");
    int first = kept.get(0);
    List<Integer> expected = new ArrayList<>();
    for (int i = first; i < count; i++) {
      expected.add(i);
    }
    assertEquals(expected, kept, "what was not written is stored, in order, once");
  }

  @Test
  void aBurstFromAClientThatReadsIsAnsweredChatByChatAndNeverCutOff() throws Exception {
    FakeServices services = start(new JsonObject());
    int alice = services.user("alice");
    int bob = services.user("bob");
    int count = 10_000;
    try (TestClient sender = TestClient.connect(harness.port());
         TestClient receiver = TestClient.connect(harness.port())) {
      sender.login(alice);
      receiver.login(bob);
      StringBuilder burst = new StringBuilder();
      for (int i = 0; i < count; i++) {
        burst.append(new JsonObject().put("msgid", 6).put("toid", bob).put("msg", String.valueOf(i))
            .put("seq", i).encode()).append('\0');
      }
      sender.sendRaw(burst.toString().getBytes(StandardCharsets.UTF_8));
      List<Integer> acked = new ArrayList<>();
      int limited = 0;
      for (int i = 0; i < count; i++) {
        JsonObject reply = sender.next(10_000);
        if (reply == null) {
          throw new AssertionError("no answer for every chat: " + i + " of " + count);
        }
        if (reply.getInteger("msgid") == 105) {
          acked.add(reply.getInteger("seq"));
        } else {
          assertEquals(429, reply.getInteger("errno"), reply.encode());
          limited++;
        }
      }
      assertFalse(sender.closedByServer(), "the reading sender stays connected");
      List<Integer> delivered = new ArrayList<>();
      while (delivered.size() < acked.size()) {
        JsonObject message = receiver.next(5_000);
        if (message == null) {
          break;
        }
        delivered.add(Integer.parseInt(message.getString("msg")));
      }
      assertEquals(null, receiver.next(300), "nothing more than the ACKed ones");
      List<Integer> ackedInOrder = new ArrayList<>(acked);
      ackedInOrder.sort(null);
      assertEquals(ackedInOrder, delivered, "every ACKed chat once, in order, no 429 one");
      assertEquals(count, acked.size() + limited);
    }
  }
}
