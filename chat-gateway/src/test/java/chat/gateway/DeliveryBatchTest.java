package chat.gateway;

import static chat.gateway.ChatLanesTest.chat;
import static chat.gateway.ChatLanesTest.indexOf;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Deliveries to another node go in batches, one in flight per event loop and node: the
 * receiving node answers item by item, in order, and writes nothing after a batch's deadline;
 * a batch not answered in time is stored by its senders, with every chat queued behind it for
 * the same session, in order, and none of them is delivered live.
 */
@Timeout(60)
class DeliveryBatchTest {

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

  private static JsonObject payload(int to, String text) {
    return new JsonObject().put("msgid", 6).put("id", 99).put("name", "x").put("toid", to)
        .put("msg", text).put("time", "t").put("msgno", "n-" + text);
  }

  private List<Boolean> request(DeliverBatch batch) {
    Buffer reply = harness.vertx.eventBus().<Buffer>request(
        Addresses.gatewayDeliverBatch(harness.nodeId), batch.toBuffer()).await().body();
    return DeliverBatch.Reply.fromBuffer(reply, batch.items().size()).taken();
  }

  private static DeliverBatch.Item item(int userId, String session, String text) {
    JsonObject payload = payload(userId, text);
    return DeliverBatch.Item.of(userId, session, payload, payload.encode());
  }

  @Test
  void aBatchIsAnsweredItemByItemAndWrittenInOrder() {
    int bob = services.user("bob");
    try (TestClient client = TestClient.connect(harness.port())) {
      client.login(bob);
      String session = services.sessionsOf(bob).get(0);
      long deadline = System.currentTimeMillis() + 5_000;
      List<Boolean> taken = request(new DeliverBatch(deadline, List.of(
          item(bob, session, "a"),
          item(bob, "not-that-session", "b"),
          item(424242, "nobody", "c"),
          item(bob, session, "d"))));
      assertEquals(List.of(true, false, false, true), taken);
      assertEquals(payload(bob, "a"), client.expect(6));
      assertEquals(payload(bob, "d"), client.expect(6));
      assertNull(client.next(300), "nothing else written");
    }
  }

  @Test
  void aBatchInTheJsonOfAnEarlierNodeIsWrittenAndAnsweredInJson() {
    int bob = services.user("bob");
    try (TestClient client = TestClient.connect(harness.port())) {
      client.login(bob);
      String session = services.sessionsOf(bob).get(0);
      JsonObject body = new JsonObject().put("deadline", System.currentTimeMillis() + 5_000)
          .put("items", new JsonArray()
              .add(new JsonObject().put("userId", bob).put("sessionId", session)
                  .put("payload", payload(bob, "old-a")))
              .add(new JsonObject().put("userId", bob).put("sessionId", "gone")
                  .put("payload", payload(bob, "old-b"))));
      JsonObject reply = harness.vertx.eventBus().<JsonObject>request(
          Addresses.gatewayDeliverBatch(harness.nodeId), body).await().body();
      assertEquals(new JsonObject().put("taken", new JsonArray().add(true).add(false)), reply);
      assertEquals(payload(bob, "old-a"), client.expect(6));
      assertNull(client.next(300), "nothing else written");
    }
  }

  @Test
  void aBatchArrivingAfterItsDeadlineWritesNothing() {
    int bob = services.user("bob");
    try (TestClient client = TestClient.connect(harness.port())) {
      client.login(bob);
      String session = services.sessionsOf(bob).get(0);
      List<Boolean> taken = request(new DeliverBatch(System.currentTimeMillis() - 1, List.of(
          item(bob, session, "late"))));
      assertEquals(List.of(false), taken);
      assertNull(client.next(500), "not written");
    }
  }

  @Test
  void aBatchNotAnsweredInTimeIsStoredWithTheChatsBehindItInOrderAndNoneGoesLive() {
    int alice = services.user("alice");
    int bob = services.user("bob");
    services.online(bob, FAR, "bob-1");
    List<String> events = new CopyOnWriteArrayList<>();
    List<JsonArray> batches = new CopyOnWriteArrayList<>();
    harness.vertx.eventBus().<JsonObject>consumer(Addresses.gatewayOfflineCheck(FAR), msg -> {
      events.add("check");
      msg.reply(new JsonObject());
    });
    harness.vertx.eventBus().<Buffer>consumer(Addresses.gatewayDeliverBatch(FAR), msg -> {
      JsonArray items = FarNode.items(msg);
      batches.add(items);
      if (batches.size() == 1) {
        return; // the first batch is never answered: the node is as good as gone
      }
      for (int i = 0; i < items.size(); i++) {
        events.add("live:" + indexOf(items.getJsonObject(i).getJsonObject("payload")));
      }
      FarNode.reply(msg, Collections.nCopies(items.size(), true));
    });
    int held = 10;
    int count = 20;
    try (TestClient client = TestClient.connect(harness.port())) {
      client.login(alice);
      for (int i = 0; i < held; i++) {
        client.send(chat(bob, i));
      }
      List<Integer> acked = new ArrayList<>();
      for (int i = 0; i < held; i++) {
        JsonObject ack = client.expect(105);
        assertEquals(0, ack.getInteger("errno"), ack.encode());
        acked.add(ack.getInteger("seq"));
      }
      Collections.sort(acked);
      assertEquals(held, acked.size());
      List<Integer> stored = services.mailbox(bob).stream().map(ChatLanesTest::indexOf)
          .toList();
      List<Integer> expected = new ArrayList<>();
      for (int i = 0; i < held; i++) {
        expected.add(i);
      }
      assertEquals(expected, stored, "the unanswered batch and every chat behind it, stored in"
          + " order; batches " + batches + ", events " + events);
      // The lane may already have found Bob again and asked his node to deliver the stored
      // ones (a check, which comes first below); no chat went live.
      assertTrue(events.stream().noneMatch(e -> e.startsWith("live:")),
          "none went live: " + events);
      // Bob is still there: the lane finds him, has him deliver the stored ones, then goes live.
      for (int i = held; i < count; i++) {
        client.send(chat(bob, i));
        assertEquals(0, client.expect(105).getInteger("errno"));
      }
      assertNull(client.next(300), "each chat answered once");
    }
    assertEquals("check", events.get(0), "the stored ones first: " + events);
    List<Integer> live = events.stream().filter(e -> e.startsWith("live:"))
        .map(e -> Integer.parseInt(e.substring(5))).toList();
    List<Integer> stored = services.mailbox(bob).stream().map(ChatLanesTest::indexOf)
        .toList();
    List<Integer> all = new ArrayList<>(stored);
    all.addAll(live);
    List<Integer> expected = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      expected.add(i);
    }
    assertEquals(expected, all, "stored " + stored + " then live " + live);
  }

  @Test
  void whatPilesUpBehindASlowNodeGoesInBatchesOfBoundedSizeInOrder() {
    int alice = services.user("alice");
    int bob = services.user("bob");
    services.online(bob, FAR, "bob-1");
    List<Integer> sizes = new CopyOnWriteArrayList<>();
    List<Integer> live = new CopyOnWriteArrayList<>();
    harness.vertx.eventBus().<Buffer>consumer(Addresses.gatewayDeliverBatch(FAR), msg -> {
      JsonArray items = FarNode.items(msg);
      sizes.add(items.size());
      for (int i = 0; i < items.size(); i++) {
        live.add(indexOf(items.getJsonObject(i).getJsonObject("payload")));
      }
      List<Boolean> reply = Collections.nCopies(items.size(), true);
      // the first batch is answered late: everything sent meanwhile piles up behind it
      harness.vertx.setTimer(sizes.size() == 1 ? 1_000 : 1, t -> FarNode.reply(msg, reply));
    });
    int count = 600;
    try (TestClient client = TestClient.connect(harness.port())) {
      client.login(alice);
      for (int i = 0; i < count; i++) {
        client.send(chat(bob, i));
      }
      for (int i = 0; i < count; i++) {
        assertEquals(0, client.expect(105).getInteger("errno"));
      }
    }
    List<Integer> expected = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      expected.add(i);
    }
    assertEquals(expected, live, "every chat once, in order");
    assertTrue(sizes.size() >= 3 && sizes.stream().allMatch(n -> n <= 128),
        "batches of at most 128: " + sizes);
  }

  @Test
  void deliveriesToAnotherNodeGoAsBatchesWithPerItemResults() {
    int alice = services.user("alice");
    int bob = services.user("bob");
    int carol = services.user("carol");
    services.online(bob, FAR, "bob-1");
    services.online(carol, FAR, "carol-1");
    List<String> live = new CopyOnWriteArrayList<>();
    FarNode.deliveries(harness.vertx, FAR, item -> {
      if ("carol-1".equals(item.getString("sessionId"))) {
        services.offline(carol);
        return Future.succeededFuture(false);
      }
      live.add(item.getInteger("userId") + ":" + indexOf(item.getJsonObject("payload")));
      return Future.succeededFuture(true);
    });
    try (TestClient client = TestClient.connect(harness.port())) {
      client.login(alice);
      for (int i = 0; i < 10; i++) {
        client.send(chat(i % 2 == 0 ? bob : carol, i));
      }
      for (int i = 0; i < 10; i++) {
        assertEquals(0, client.expect(105).getInteger("errno"));
      }
    }
    assertEquals(List.of(bob + ":0", bob + ":2", bob + ":4", bob + ":6", bob + ":8"), live);
    assertEquals(List.of(1, 3, 5, 7, 9),
        services.mailbox(carol).stream().map(ChatLanesTest::indexOf).toList(),
        "a chat not taken is stored, in order");
  }
}
