package chat.user;

import static chat.protocol.bus.Addresses.USER_HISTORY;
import static chat.user.MessageStoreTest.append;
import static chat.user.MessageStoreTest.chat;
import static chat.user.MessageStoreTest.item;
import static chat.user.MessageStoreTest.msgnos;
import static chat.user.MessageStoreTest.page;
import static chat.user.MessageStoreTest.register;
import static org.junit.jupiter.api.Assertions.assertEquals;

import chat.protocol.config.DbUrl;
import chat.user.repo.MessageStore;
import chat.user.repo.SchemaMigration;
import chat.user.repo.UserRepository;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.sqlclient.Pool;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Retention: messages past CHAT_HISTORY_DAYS are deleted in batches, with their mailbox rows,
 * except those some user has not received yet.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 120, timeUnit = TimeUnit.SECONDS)
class RetentionTest {

  @RegisterExtension
  static final TestDatabase DB = new TestDatabase();

  static final int DAYS = 2;
  static final MutableClock CLOCK = new MutableClock(System.currentTimeMillis());

  private static BusClient bus;
  private static Pool pool;
  private static MessageRetention retention;

  @BeforeAll
  static void deploy(Vertx vertx) {
    SchemaMigration.migrate(DB.url());
    vertx.deployVerticle(new UserVerticle(
        TestConfigs.forDatabase(DB.url()).withHistoryDays(DAYS), CLOCK)).await();
    bus = new BusClient(vertx);
    MessageStoreTest.useBus(bus);
    pool = UserRepository.createPool(vertx, DbUrl.parse(DB.url()), 2);
    retention = new MessageRetention(new MessageStore(pool), CLOCK, DAYS);
  }

  @AfterAll
  static void close() {
    pool.close().await();
  }

  private static long count(String sql, Object... params) throws Exception {
    return ((Number) DB.queryValue(sql, params)).longValue();
  }

  @Test
  void expiredMessagesGoExceptThoseStillWaited() throws Exception {
    int alice = register();
    int bob = register();
    int carol = register();
    // 2,500 delivered messages (three batches) and one bob has not received
    for (int call = 0; call < 5; call++) {
      JsonObject[] items = new JsonObject[500];
      for (int i = 0; i < items.length; i++) {
        items[i] = item(chat(alice, bob, "old " + call + "/" + i), List.of(), List.of(bob));
      }
      append(items);
    }
    JsonObject waiting = chat(alice, bob, "not received yet");
    append(item(waiting, List.of(bob), List.of(carol)));
    CLOCK.advance(Duration.ofDays(DAYS).minusMinutes(1));
    JsonObject recent = chat(alice, bob, "recent");
    append(item(recent, List.of(), List.of(bob)));

    assertEquals(0, retention.runOnce().await(), "nothing is old enough yet");
    CLOCK.advance(Duration.ofMinutes(2));
    assertEquals(2_500, retention.runOnce().await());
    assertEquals(0, retention.runOnce().await(), "a second run finds nothing");

    assertEquals(2L, count("SELECT COUNT(*) FROM message"));
    assertEquals(List.of(waiting.getString("msgno")), msgnos(page(bob, 10)));
    // mailbox rows went with their messages; the waited-for message keeps carol's tombstone
    assertEquals(3L, count("SELECT COUNT(*) FROM mailbox"));
    // history shows only what is inside the window
    JsonObject history = bus.request(USER_HISTORY,
        new JsonObject().put("userId", alice).put("with", bob));
    assertEquals(new JsonArray().add(recent), history.getJsonArray("messages"));

    // once received, the old message goes at the next run
    MessageStoreTest.ack(bob, List.of(waiting.getString("msgno")));
    assertEquals(1, retention.runOnce().await());
    assertEquals(List.of(recent.getString("msgno")), texts());
  }

  private static List<String> texts() throws Exception {
    List<String> out = new ArrayList<>();
    long n = count("SELECT COUNT(*) FROM message");
    for (long i = 0; i < n; i++) {
      out.add((String) DB.queryValue("SELECT msgno FROM message ORDER BY id LIMIT 1 OFFSET ?", i));
    }
    return out;
  }
}
