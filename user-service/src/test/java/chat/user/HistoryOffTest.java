package chat.user;

import static chat.protocol.bus.Addresses.USER_HISTORY;
import static chat.user.MessageStoreTest.append;
import static chat.user.MessageStoreTest.chat;
import static chat.user.MessageStoreTest.item;
import static chat.user.MessageStoreTest.msgnos;
import static chat.user.MessageStoreTest.page;
import static chat.user.MessageStoreTest.register;
import static chat.user.MessageStoreTest.result;
import static org.junit.jupiter.api.Assertions.assertEquals;

import chat.user.repo.SchemaMigration;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/** CHAT_HISTORY_DAYS=0: no history, but stored messages still work. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class HistoryOffTest {

  @RegisterExtension
  static final TestDatabase DB = new TestDatabase();

  private static BusClient bus;

  @BeforeAll
  static void deploy(Vertx vertx) {
    SchemaMigration.migrate(DB.url());
    vertx.deployVerticle(new UserVerticle(TestConfigs.forDatabase(DB.url()).withHistoryDays(0)))
        .await();
    bus = new BusClient(vertx);
    MessageStoreTest.useBus(bus);
  }

  @Test
  void deliveredMessagesAreNotLoggedAndHistoryIsEmpty() throws Exception {
    int alice = register();
    int bob = register();
    JsonObject live = chat(alice, bob, "delivered");
    JsonObject stored = chat(alice, bob, "stored");
    assertEquals(new JsonArray()
            .add(result(List.of(), List.of(), List.of()))
            .add(result(List.of(bob), List.of(), List.of())),
        append(item(live, List.of(), List.of(bob)), item(stored, List.of(bob), List.of())));
    assertEquals(1L, ((Number) DB.queryValue("SELECT COUNT(*) FROM message")).longValue());
    assertEquals(List.of(stored.getString("msgno")), msgnos(page(bob, 10)));
    assertEquals(new JsonObject().put("messages", new JsonArray()).put("more", false),
        bus.request(USER_HISTORY, new JsonObject().put("userId", bob).put("with", alice)));
  }
}
