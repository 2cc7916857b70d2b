package chat.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import chat.protocol.bus.Addresses;
import chat.protocol.bus.gateway.DeliverBatch;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Chats of one connection in their lanes: pipelined to a node, in order through refusals and
 * storage, stored ones before live ones, a repeated msgno dropped by the receiving session.
 * The far node is a fake consumer of the deliver and offline-check addresses.
 */
@Timeout(60)
class ChatLanesTest {

  private static final String FAR = "far-node";
  private GatewayHarness harness;
  private FakeServices services;

  @BeforeEach
  void start() throws Exception {
    harness = GatewayHarness.start(new JsonObject().put("rateLimitPerSecond", 100_000));
    services = harness.services;
  }

  @AfterEach
  void stop() throws Exception {
    harness.close();
  }

  static JsonObject chat(int to, int i) {
    return new JsonObject().put("msgid", 6).put("toid", to).put("msg", String.valueOf(i))
        .put("seq", i);
  }

  static int indexOf(JsonObject message) {
    return Integer.parseInt(message.getString("msg"));
  }

  @Test
  void chatsToOneNodeAreSentWithoutWaitingForEachAnswerAndArriveInOrder() {
    int alice = services.user("alice");
    int bob = services.user("bob");
    services.online(bob, FAR, "bob-1");
    int count = 20;
    List<Integer> arrived = new CopyOnWriteArrayList<>();
    List<Integer> batches = new CopyOnWriteArrayList<>();
    harness.vertx.eventBus().<Buffer>consumer(Addresses.gatewayDeliverBatch(FAR), msg -> {
      JsonArray items = FarNode.items(msg);
      batches.add(items.size());
      for (int i = 0; i < items.size(); i++) {
        assertEquals("bob-1", items.getJsonObject(i).getString("sessionId"));
        arrived.add(indexOf(items.getJsonObject(i).getJsonObject("payload")));
      }
      List<Boolean> taken = Collections.nCopies(items.size(), true);
      if (batches.size() > 1) {
        FarNode.reply(msg, taken);
        return;
      }
      // The first batch is answered only once every chat is logged: each is handed over
      // without waiting for an earlier one's answer, so the rest wait together as the next.
      harness.vertx.setPeriodic(5, id -> {
        if (services.logTexts().size() == count) {
          harness.vertx.cancelTimer(id);
          FarNode.reply(msg, taken);
        }
      });
    });
    try (TestClient client = TestClient.connect(harness.port())) {
      client.login(alice);
      for (int i = 0; i < count; i++) {
        client.send(chat(bob, i));
      }
      for (int i = 0; i < count; i++) {
        JsonObject ack = client.expect(105);
        assertEquals(0, ack.getInteger("errno"));
      }
    }
    assertEquals(2, batches.size(), "the chats handed over while the first batch was in flight"
        + " went as one batch: " + batches);
    List<Integer> expected = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      expected.add(i);
    }
    assertEquals(expected, arrived, "in the order sent");
    assertEquals(1, services.locates.get(), "presence asked once for the lane");
    assertEquals(List.of(), services.mailbox(bob), "nothing stored");
  }

  @Test
  void afterARefusalTheRestFollowIntoTheStoreInOrder() {
    int alice = services.user("alice");
    int bob = services.user("bob");
    services.online(bob, FAR, "bob-1");
    List<Integer> delivered = new CopyOnWriteArrayList<>();
    FarNode.deliveries(harness.vertx, FAR, item -> {
      int i = indexOf(item.getJsonObject("payload"));
      if (i < 5) {
        delivered.add(i);
        return Future.succeededFuture(true);
      }
      services.offline(bob);
      return Future.succeededFuture(false);
    });
    int count = 40;
    try (TestClient client = TestClient.connect(harness.port())) {
      client.login(alice);
      for (int i = 0; i < count; i++) {
        client.send(chat(bob, i));
      }
      List<Integer> acked = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        JsonObject ack = client.expect(105);
        assertEquals(0, ack.getInteger("errno"));
        acked.add(ack.getInteger("seq"));
      }
      Collections.sort(acked);
      assertEquals(count, acked.size());
    }
    assertEquals(List.of(0, 1, 2, 3, 4), delivered);
    List<Integer> stored = services.mailbox(bob).stream().map(ChatLanesTest::indexOf).toList();
    List<Integer> expected = new ArrayList<>();
    for (int i = 5; i < count; i++) {
      expected.add(i);
    }
    assertEquals(expected, stored, "the refused one and every later one, stored in order");
  }

  @Test
  void aUserFoundOnlineAfterAStoreGetsTheStoredOnesBeforeLiveOnes() {
    int alice = services.user("alice");
    int bob = services.user("bob");
    List<String> events = new CopyOnWriteArrayList<>();
    harness.vertx.eventBus().<JsonObject>consumer(Addresses.gatewayOfflineCheck(FAR), msg -> {
      events.add("check:" + services.mailbox(bob).size());
      msg.reply(new JsonObject());
    });
    FarNode.takingAll(harness.vertx, FAR,
        item -> events.add("live:" + indexOf(item.getJsonObject("payload"))));
    try (TestClient client = TestClient.connect(harness.port())) {
      client.login(alice);
      for (int i = 0; i < 3; i++) {
        client.send(chat(bob, i));
        assertEquals(0, client.expect(105).getInteger("errno"));
      }
      assertEquals(3, services.mailbox(bob).size());
      services.online(bob, FAR, "bob-1");
      for (int i = 3; i < 8; i++) {
        client.send(chat(bob, i));
        assertEquals(0, client.expect(105).getInteger("errno"));
      }
    }
    List<Integer> stored = services.mailbox(bob).stream().map(ChatLanesTest::indexOf).toList();
    assertTrue(events.get(0).startsWith("check:"), "the stored ones first: " + events);
    List<Integer> live = events.stream().filter(e -> e.startsWith("live:"))
        .map(e -> Integer.parseInt(e.substring(5))).toList();
    List<Integer> all = new ArrayList<>(stored);
    all.addAll(live);
    assertEquals(List.of(0, 1, 2, 3, 4, 5, 6, 7), all, "stored " + stored + " then live " + live);
    assertTrue(stored.size() >= 3 && !live.isEmpty(), events.toString());
  }

  @Test
  void aSessionDropsAMsgnoItAlreadyHad() throws Exception {
    int bob = services.user("bob");
    try (TestClient client = TestClient.connect(harness.port())) {
      client.login(bob);
      String sessionId = services.sessionsOf(bob).get(0);
      JsonObject payload = new JsonObject().put("msgid", 6).put("id", 99).put("name", "x")
          .put("toid", bob).put("msg", "once").put("time", "t").put("msgno", "n-1");
      JsonObject body = new JsonObject().put("userId", bob).put("sessionId", sessionId)
          .put("payload", payload);
      for (int i = 0; i < 2; i++) {
        JsonObject reply = harness.vertx.eventBus().<JsonObject>request(
                Addresses.gatewayDeliver(harness.nodeId), body).toCompletionStage()
            .toCompletableFuture().get(5, TimeUnit.SECONDS).body();
        assertEquals(1, reply.getInteger("delivered"), "a repeat counts as delivered");
      }
      assertEquals("once", client.expect(6).getString("msg"));
      assertEquals(null, client.next(300), "written once");
      // Another session id of the same user is refused.
      JsonObject other = body.copy().put("sessionId", "someone-else");
      Throwable refused = harness.vertx.eventBus().request(Addresses.gatewayDeliver(harness.nodeId),
          other).toCompletionStage().toCompletableFuture().handle((r, e) -> e).get(5, TimeUnit.SECONDS);
      assertTrue(refused != null, "refused");
    }
  }

  @Test
  void aStoreThatFailsIsRetriedAndAStoreThatKeepsFailingIsAnswered503() {
    int alice = services.user("alice");
    int bob = services.user("bob");
    try (TestClient client = TestClient.connect(harness.port())) {
      client.login(alice);
      services.failAppends.set(2);
      client.send(chat(bob, 0));
      assertEquals(0, client.expect(105).getInteger("errno"), "stored after retries");
      services.failAppends.set(1_000);
      client.send(chat(bob, 1));
      JsonObject error = client.expect(104);
      assertEquals(503, error.getInteger("errno"));
      assertEquals(1, error.getInteger("seq"));
      assertTrue(error.getLong("retry_after_ms") >= 500, error.encode());
      services.failAppends.set(0);
      services.mailboxMax = 1;
      // For a moment after the failure the store counts as down: 503 at once, nothing stored.
      JsonObject full;
      long until = System.nanoTime() + 10_000_000_000L;
      do {
        client.send(chat(bob, 2));
        full = client.expect(104);
      } while (full.getInteger("errno") == 503 && System.nanoTime() < until);
      assertEquals(507, full.getInteger("errno"), "mailbox full");
      client.send(chat(424242, 3));
      assertEquals(404, client.expect(104).getInteger("errno"), "no such user");
    }
    assertEquals(List.of(0), services.mailbox(bob).stream().map(ChatLanesTest::indexOf).toList());
  }

  @Test
  void aChatIsLoggedBeforeItIsAnsweredAndWhileTheStoreIsDownGoesOnOnlyToAKnownUser() {
    int alice = services.user("alice");
    int bob = services.user("bob");
    int carol = services.user("carol");
    services.online(bob, FAR, "bob-1");
    services.online(carol, FAR, "carol-1");
    List<Boolean> loggedAtDelivery = new CopyOnWriteArrayList<>();
    List<String> delivered = new CopyOnWriteArrayList<>();
    FarNode.takingAll(harness.vertx, FAR, item -> {
      JsonObject payload = item.getJsonObject("payload");
      loggedAtDelivery.add(services.inLog(payload.getString("msgno")));
      delivered.add(payload.getInteger("toid") + ":" + indexOf(payload));
    });
    try (TestClient client = TestClient.connect(harness.port())) {
      client.login(alice);
      client.send(chat(bob, 0));
      assertEquals(0, client.expect(105).getInteger("errno"));
      services.failAppends.set(1_000);
      // Carol's lane cannot know she exists without the store: refused, not delivered.
      client.send(chat(carol, 1));
      JsonObject error = client.expect(104);
      assertEquals(503, error.getInteger("errno"), error.encode());
      assertEquals(1, error.getInteger("seq"));
      assertTrue(error.getLong("retry_after_ms") >= 500, error.encode());
      // Bob's lane logged a chat to him already: chat goes on, logged later.
      client.send(chat(bob, 2));
      JsonObject ack = client.expect(105);
      assertEquals(2, ack.getInteger("seq"), ack.encode());
      services.failAppends.set(0);
      // Once the store answers again, the chat delivered meanwhile is logged first.
      Eventually.holds("the deferred chat logged", 5_000,
          () -> services.logTexts().equals(List.of("0", "2")));
      // A known user's chat is delivered while the log takes it, and answered once logged.
      services.appendDelayMs = 300;
      client.send(chat(bob, 3));
      assertEquals(3, client.expect(105).getInteger("seq"));
      assertTrue(services.logTexts().contains("3"), "in the log before it is answered");
    }
    assertEquals(List.of(bob + ":0", bob + ":2", bob + ":3"), delivered,
        "the refused chat was not delivered");
    assertEquals(List.of(true, false, false), loggedAtDelivery,
        "the first chat to a user is in the log before delivery (the user must exist); later"
            + " ones are delivered while being logged, or while the store was down");
    Eventually.holds("the chat delivered while the store was down is logged, in accept order",
        5_000, () -> services.logTexts().equals(List.of("0", "2", "3")));
    assertEquals(List.of("0", "2", "3"), services.logTexts());
  }

  @Test
  void chatsAcceptedWhileTheLogIsWritingGoInItsNextAppendTogether() {
    int alice = services.user("alice");
    int bob = services.user("bob");
    services.online(bob, FAR, "bob-1");
    FarNode.takingAll(harness.vertx, FAR, item -> { });
    int count = 300;
    try (TestClient client = TestClient.connect(harness.port())) {
      client.login(alice);
      client.send(chat(bob, 0));
      assertEquals(0, client.expect(105).getInteger("errno"));
      int before = services.appendRequests.get();
      services.appendDelayMs = 200;
      for (int i = 1; i <= count; i++) {
        client.send(chat(bob, i));
      }
      for (int i = 1; i <= count; i++) {
        JsonObject ack = client.expect(105);
        assertEquals(0, ack.getInteger("errno"), ack.encode());
      }
      int appends = services.appendRequests.get() - before;
      // a few appends, not one per chat: each takes as many of the waiting chats as fill one
      // insert exactly (at most 160, at least three quarters of them: 1, 160, 128, 10, 1)
      assertTrue(appends <= 6, count + " chats logged in " + appends + " appends");
    }
    assertEquals(count + 1, services.logTexts().size());
  }
}
