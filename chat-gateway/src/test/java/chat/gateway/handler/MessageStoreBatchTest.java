package chat.gateway.handler;

import static org.junit.jupiter.api.Assertions.assertEquals;

import chat.gateway.bus.ServiceClient;
import chat.protocol.bus.Addresses;
import chat.protocol.bus.user.Append;
import chat.protocol.wire.JsonText;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The node's log writer: how a backlog of accepted chats is cut into appends. */
@Timeout(30)
class MessageStoreBatchTest {

  private Vertx vertx;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
  }

  @AfterEach
  void stop() {
    vertx.close().await();
  }

  private static JsonObject chat(int i) {
    return new JsonObject().put("msgid", 6).put("id", 13).put("name", "li si").put("toid", 14)
        .put("msg", "hello " + i).put("time", "2026-12-02 12:00:00").put("msgno", "n-" + i);
  }

  @Test
  void aBacklogOfLogRowsGoesInAppendsOfWholeInsertsInOrder() throws InterruptedException {
    List<Integer> sizes = new CopyOnWriteArrayList<>();
    List<String> order = new CopyOnWriteArrayList<>();
    Promise<Void> release = Promise.promise();
    vertx.eventBus().<JsonObject>consumer(Addresses.USER_MESSAGE_APPEND, msg -> {
      Append append = Append.fromJson(msg.body());
      sizes.add(append.messages().size());
      append.messages().forEach(item -> order.add(item.msgno()));
      List<Append.Result> results = new ArrayList<>();
      append.messages().forEach(item -> results.add(new Append.Result(List.of(), List.of(),
          List.of())));
      JsonObject reply = new Append.Reply(results).toJson();
      // the first append is answered only once the others wait behind it
      (sizes.size() == 1 ? release.future() : Future.succeededFuture())
          .onComplete(v -> msg.reply(reply));
    }).completion().await();
    MessageStore store = new MessageStore(new ServiceClient(vertx.eventBus(), 5_000, false),
        10_000, vertx.getOrCreateContext(), true);
    List<Future<MessageStore.Outcome>> logged = new ArrayList<>();
    JsonObject first = chat(0);
    logged.add(store.log(first, JsonText.toString(first), List.of()));
    long until = System.currentTimeMillis() + 10_000;
    while (sizes.isEmpty() && System.currentTimeMillis() < until) {
      Thread.sleep(5);
    }
    for (int i = 1; i < 44; i++) {
      JsonObject chat = chat(i);
      logged.add(store.log(chat, JsonText.toString(chat), List.of()));
    }
    while (store.backlog() < 43 && System.currentTimeMillis() < until) {
      Thread.sleep(5);
    }
    assertEquals(43, store.backlog(), "43 chats wait behind the first append");
    release.complete();
    Future.all(logged).await();
    // 43 waiting: 40 in one insert of a kept shape, the 3 others in the next append
    assertEquals(List.of(1, 40, 3), sizes);
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < 44; i++) {
      expected.add("n-" + i);
    }
    assertEquals(expected, order, "every chat once, in accept order");
  }

  @Test
  void chatsHandedOverFromManyThreadsAreAllLoggedEachThreadsInItsOrder() throws Exception {
    Map<String, List<Integer>> logged = new ConcurrentHashMap<>();
    vertx.eventBus().<JsonObject>consumer(Addresses.USER_MESSAGE_APPEND, msg -> {
      Append append = Append.fromJson(msg.body());
      List<Append.Result> results = new ArrayList<>();
      for (Append.Item item : append.messages()) {
        String[] msgno = item.msgno().split("-");
        logged.computeIfAbsent(msgno[0], k -> new CopyOnWriteArrayList<>())
            .add(Integer.parseInt(msgno[1]));
        results.add(new Append.Result(List.of(), List.of(), List.of()));
      }
      msg.reply(new Append.Reply(results).toJson());
    }).completion().await();
    MessageStore store = new MessageStore(new ServiceClient(vertx.eventBus(), 5_000, false),
        10_000, vertx.getOrCreateContext(), true);
    int threads = 4;
    int rounds = 2_000;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      for (int round = 0; round < rounds; round++) {
        // every thread hands one chat over at the same moment, often as the writer goes idle;
        // a chat the writer missed then would wait for the next round's wake-up, or forever
        CountDownLatch go = new CountDownLatch(1);
        List<java.util.concurrent.Future<Future<MessageStore.Outcome>>> handed = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
          JsonObject chat = chat(round).put("msgno", "t" + t + "-" + round);
          handed.add(pool.submit(() -> {
            go.await();
            return store.log(chat, JsonText.toString(chat), List.of());
          }));
        }
        go.countDown();
        List<Future<MessageStore.Outcome>> thisRound = new ArrayList<>();
        for (java.util.concurrent.Future<Future<MessageStore.Outcome>> h : handed) {
          thisRound.add(h.get());
        }
        Future.all(thisRound).toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    List<Integer> expected = new ArrayList<>();
    for (int i = 0; i < rounds; i++) {
      expected.add(i);
    }
    for (int t = 0; t < threads; t++) {
      assertEquals(expected, logged.get("t" + t), "thread " + t + ": every chat once, in order");
    }
    assertEquals(0, store.backlog());
  }
}
