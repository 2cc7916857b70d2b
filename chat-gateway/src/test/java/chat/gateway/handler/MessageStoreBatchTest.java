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
import java.util.concurrent.CopyOnWriteArrayList;
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
}
