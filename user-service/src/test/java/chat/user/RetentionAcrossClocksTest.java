package chat.user;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import chat.protocol.config.DbUrl;
import chat.user.repo.MessageStore;
import chat.user.repo.SchemaMigration;
import chat.user.repo.UserRepository;
import io.vertx.core.Vertx;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
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
 * Retention walks the log's primary key, whose order is creation order only up to the clocks
 * of the nodes that wrote it: with two nodes an hour apart, a run never deletes a message
 * that has not expired, deletes every expired one before the first that has not, and once the
 * cutoff has passed them all, deletes them all.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 120, timeUnit = TimeUnit.SECONDS)
class RetentionAcrossClocksTest {

  @RegisterExtension
  static final TestDatabase DB = new TestDatabase();

  static final int DAYS = 1;
  static final long MINUTE = 60_000;
  static final long HOUR = 60 * MINUTE;
  static final long START = 1_700_000_000_000L;
  static final int MESSAGES = 600;

  private static Pool pool;

  @BeforeAll
  static void schema(Vertx vertx) {
    SchemaMigration.migrate(DB.url());
    pool = UserRepository.createPool(vertx, DbUrl.parse(DB.url()), 2);
  }

  @AfterAll
  static void close() {
    pool.close().await();
  }

  /** The i-th message was written a minute after the one before, by a node an hour ahead if odd. */
  private static long createdAt(int i) {
    return START + i * MINUTE + (i % 2 == 1 ? HOUR : 0);
  }

  @Test
  void nothingUnexpiredGoesAndEverythingExpiredBeforeItDoes() throws Exception {
    for (int i = 0; i < MESSAGES; i++) {
      DB.update("INSERT INTO message (msgno, conv, sender, created_at, body)"
          + " VALUES (?, ?, ?, ?, ?)", "skew-" + i, "u:1:2", 1, createdAt(i), "{}");
    }
    MutableClock clock = new MutableClock(START + Duration.ofDays(DAYS).toMillis() - HOUR);
    MessageRetention retention = new MessageRetention(new MessageStore(pool), clock, DAYS);
    // the cutoff sweeps from before the first message to past the last, 7 minutes a run
    while (clock.millis() - Duration.ofDays(DAYS).toMillis() <= createdAt(MESSAGES - 1)) {
      long cutoff = clock.millis() - Duration.ofDays(DAYS).toMillis();
      retention.runOnce().await();
      List<Integer> left = left();
      int firstUnexpired = -1;
      for (int i = 0; i < MESSAGES; i++) {
        if (createdAt(i) >= cutoff) {
          assertTrue(left.contains(i), "message " + i + " went before it expired (cutoff "
              + (cutoff - START) / MINUTE + " min)");
          if (firstUnexpired < 0) {
            firstUnexpired = i;
          }
        }
      }
      int end = firstUnexpired < 0 ? MESSAGES : firstUnexpired;
      for (int i = 0; i < end; i++) {
        assertTrue(!left.contains(i), "expired message " + i + " is still there before the"
            + " first unexpired one, " + firstUnexpired
            + " (cutoff " + (cutoff - START) / MINUTE + " min)");
      }
      clock.advance(Duration.ofMinutes(7));
    }
    // the cutoff is past every message now
    retention.runOnce().await();
    assertEquals(List.of(), left(), "all expired, all gone");
  }

  /** The messages still in the log, by their number i. */
  private static List<Integer> left() {
    List<Integer> left = new ArrayList<>();
    for (Row row : pool.query("SELECT msgno FROM message ORDER BY id").execute().await()) {
      left.add(Integer.parseInt(row.getString(0).substring("skew-".length())));
    }
    return left;
  }
}
