package chat.user;

import static chat.protocol.bus.Addresses.USER_HISTORY;
import static org.junit.jupiter.api.Assertions.assertEquals;

import chat.user.repo.SchemaMigration;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import java.util.Arrays;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * History reads per second on one node with a large log; a measurement, not a check, so it
 * runs only when asked:
 *
 * <pre>
 * CHAT_TEST_DB_URL=mysql://user:pass@127.0.0.1:3306/any mvn -o -B -pl user-service -am test \
 *   -Dtest=HistoryReadBenchmark -Dchat.bench=true -Dsurefire.failIfNoSpecifiedTests=false \
 *   [-Dchat.bench.messages=1000000 -Dchat.bench.seconds=20 -Dchat.bench.concurrency=32]
 * </pre>
 *
 * It fills a fresh database (MariaDB's SEQUENCE engine) with that many messages spread over
 * 1000 one-to-one conversations, deploys the user service as a node does (two instances, the
 * default configuration: one pool of 8 connections), then keeps {@code concurrency} HISTORY
 * requests in flight for the given time over the event bus: half for the newest page, half
 * for a page before a random message, limit 50. It logs reads/s and latency percentiles.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, timeUnit = TimeUnit.MINUTES)
@EnabledIfSystemProperty(named = "chat.bench", matches = "true")
class HistoryReadBenchmark {

  private static final Logger LOG = LoggerFactory.getLogger(HistoryReadBenchmark.class);

  @RegisterExtension
  static final TestDatabase DB = new TestDatabase();

  static final int CONVERSATIONS = 1_000;

  @Test
  void historyReadsPerSecond(Vertx vertx) throws Exception {
    int messages = Integer.getInteger("chat.bench.messages", 1_000_000);
    int seconds = Integer.getInteger("chat.bench.seconds", 20);
    int concurrency = Integer.getInteger("chat.bench.concurrency", 32);
    SchemaMigration.migrate(DB.url());
    long fillStart = System.nanoTime();
    DB.update("INSERT INTO `user` (id, name, password) SELECT seq, CONCAT('u', seq), 'x'"
        + " FROM seq_1_to_" + (2 * CONVERSATIONS));
    long now = System.currentTimeMillis();
    // conversation k (0..999) is between users k+1 and k+1001; body as a chat is delivered
    DB.update("INSERT INTO message (msgno, conv, sender, created_at, body)"
        + " SELECT CONCAT('b-', seq),"
        + " CONCAT('u:', 1 + seq % " + CONVERSATIONS + ", ':', 1 + " + CONVERSATIONS
        + " + seq % " + CONVERSATIONS + "),"
        + " 1 + seq % " + CONVERSATIONS + ", ? - " + messages + " + seq,"
        + " CONCAT('{\"msgid\":6,\"id\":', 1 + seq % " + CONVERSATIONS + ","
        + " ',\"name\":\"sender\",\"toid\":', 1 + " + CONVERSATIONS + " + seq % "
        + CONVERSATIONS + ","
        + " ',\"msg\":\"a message of about the usual length, ', seq, '\","
        + "\"time\":\"2026-12-01 08:00:00\",\"msgno\":\"b-', seq, '\"}')"
        + " FROM seq_1_to_" + messages, now);
    DB.queryValue("ANALYZE TABLE message");
    LOG.info("filled {} messages in {} s", messages,
        (System.nanoTime() - fillStart) / 1_000_000_000);

    vertx.deployVerticle(() -> new UserVerticle(UserConfig.of(DB.url())),
        new DeploymentOptions().setInstances(2)).await();
    // warm-up, and a check that a page is what it should be
    JsonObject first = request(vertx, 1, null, messages).await();
    assertEquals(Math.min(50, messages / CONVERSATIONS), first.getJsonArray("messages").size());

    AtomicLong done = new AtomicLong();
    long[] latencies = new long[10_000_000];
    AtomicLong recorded = new AtomicLong();
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    Promise<Void> finished = Promise.promise();
    AtomicLong running = new AtomicLong(concurrency);
    for (int i = 0; i < concurrency; i++) {
      vertx.runOnContext(v -> loop(vertx, end, messages, done, latencies, recorded, running,
          finished));
    }
    long started = System.nanoTime();
    finished.future().await();
    double elapsed = (System.nanoTime() - started) / 1e9;
    int n = (int) Math.min(recorded.get(), latencies.length);
    long[] sorted = Arrays.copyOf(latencies, n);
    Arrays.sort(sorted);
    LOG.info("HISTORY reads: {} in {} s = {} reads/s, concurrency {}, latency p50 {} ms,"
            + " p99 {} ms, max {} ms ({} messages stored)",
        done.get(), String.format("%.1f", elapsed), Math.round(done.get() / elapsed),
        concurrency, ms(sorted[n / 2]), ms(sorted[(int) (n * 0.99)]), ms(sorted[n - 1]),
        messages);
  }

  private static String ms(long nanos) {
    return String.format("%.1f", nanos / 1e6);
  }

  private static void loop(Vertx vertx, long end, int messages, AtomicLong done,
      long[] latencies, AtomicLong recorded, AtomicLong running, Promise<Void> finished) {
    if (System.nanoTime() >= end) {
      if (running.decrementAndGet() == 0) {
        finished.complete();
      }
      return;
    }
    ThreadLocalRandom random = ThreadLocalRandom.current();
    int user = 1 + random.nextInt(CONVERSATIONS);
    String before = random.nextBoolean() ? null : "b-" + (1 + random.nextInt(messages));
    long t0 = System.nanoTime();
    request(vertx, user, before, messages).onComplete(ar -> {
      if (ar.failed()) {
        finished.tryFail(ar.cause());
        return;
      }
      long i = recorded.getAndIncrement();
      if (i < latencies.length) {
        latencies[(int) i] = System.nanoTime() - t0;
      }
      done.incrementAndGet();
      loop(vertx, end, messages, done, latencies, recorded, running, finished);
    });
  }

  /** A page of user's conversation; a random msgno is in some conversation, maybe not this. */
  private static Future<JsonObject> request(Vertx vertx, int user, String before, int messages) {
    JsonObject query = new JsonObject().put("userId", user).put("with", user + CONVERSATIONS)
        .put("limit", 50);
    if (before != null) {
      // b-<seq> belongs to the conversation of user 1 + seq % 1000: take one of this user's
      long seq = Long.parseLong(before.substring(2));
      long mine = seq - seq % CONVERSATIONS + (user - 1);
      if (mine < 1) {
        mine += CONVERSATIONS;
      }
      if (mine > messages) {
        mine -= CONVERSATIONS;
      }
      query.put("before", "b-" + mine);
    }
    return vertx.eventBus().<JsonObject>request(USER_HISTORY, query).map(m -> m.body());
  }
}
