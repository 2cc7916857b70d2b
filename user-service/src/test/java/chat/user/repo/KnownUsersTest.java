package chat.user.repo;

import static org.junit.jupiter.api.Assertions.assertEquals;

import chat.protocol.config.DbUrl;
import chat.user.TestDatabase;
import io.vertx.core.Vertx;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.sqlclient.Pool;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * An accept names recipients that must exist: the store remembers for a while who it has seen
 * to exist, never who it found missing, and asks again once the while is over.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class KnownUsersTest {

  @RegisterExtension
  static final TestDatabase DB = new TestDatabase();

  private static Pool pool;

  @BeforeAll
  static void migrate(Vertx vertx) {
    SchemaMigration.migrate(DB.url());
    pool = UserRepository.createPool(vertx, DbUrl.parse(DB.url()), 2);
  }

  @AfterAll
  static void close() {
    pool.close().await();
  }

  private static int newUser() throws Exception {
    String name = "k-" + UUID.randomUUID().toString().substring(0, 12);
    DB.update("INSERT INTO `user` (name, password) VALUES (?, 'x')", name);
    return ((Number) DB.queryValue("SELECT id FROM `user` WHERE name = ?", name)).intValue();
  }

  /** The missing users of one accept from {@code sender} to {@code to}. */
  private static List<Integer> accept(MessageStore store, int sender, int to) {
    String msgno = UUID.randomUUID().toString();
    MessageStore.Append chat = new MessageStore.Append(msgno, "u:" + sender + ":" + to, sender,
        "{\"msgno\":\"" + msgno + "\"}", List.of(), List.of(), List.of(to), false);
    return store.append(List.of(chat), System.currentTimeMillis(), true, 10).await()
        .get(0).missing();
  }

  @Test
  void aUserFoundMissingIsAskedAboutAgain() throws Exception {
    MessageStore store = new MessageStore(pool);
    int sender = newUser();
    int next = sender + 1_000;
    assertEquals(List.of(next), accept(store, sender, next));
    assertEquals(List.of(next), accept(store, sender, next), "still missing");
    DB.update("INSERT INTO `user` (id, name, password) VALUES (?, ?, 'x')", next,
        "k-" + UUID.randomUUID().toString().substring(0, 12));
    assertEquals(List.of(), accept(store, sender, next), "created since: found");
  }

  @Test
  void aUserSeenToExistCountsAsExistingOnlyForItsWhile() throws Exception {
    int sender = newUser();
    int gone = newUser();
    MessageStore remembers = new MessageStore(pool);
    MessageStore forgets = new MessageStore(pool, 0);
    assertEquals(List.of(), accept(remembers, sender, gone));
    assertEquals(List.of(), accept(forgets, sender, gone));
    DB.update("DELETE FROM `user` WHERE id = ?", gone);
    assertEquals(List.of(), accept(remembers, sender, gone), "seen within the while");
    assertEquals(List.of(gone), accept(forgets, sender, gone), "the while is over: asked again");
  }
}
