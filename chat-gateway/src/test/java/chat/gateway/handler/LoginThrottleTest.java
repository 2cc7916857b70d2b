package chat.gateway.handler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import chat.gateway.GatewayMetrics;
import chat.protocol.bus.FailureCodes;
import chat.protocol.wire.ErrorCode;
import chat.protocol.wire.ProtocolException;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.AsyncMap;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The login throttle against its map: two throttles (two nodes) on one map count failures
 * as one budget, also when they record at the same time; a map that never answers or fails
 * leaves the node's own counts in charge, and no login waits on it beyond the bounds.
 */
@Timeout(60)
class LoginThrottleTest {

  /** Longest a guarded login may take with a map that does not answer. */
  private static final long BOUND_MS = LoginThrottle.MAP_TIMEOUT_MS
      + LoginThrottle.RECORD_TIMEOUT_MS + 1500;

  private Vertx vertx;
  private Context context;
  private SimpleMeterRegistry metrics;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    context = vertx.getOrCreateContext();
    metrics = new SimpleMeterRegistry();
    GatewayMetrics.create(vertx, metrics, () -> 0, () -> 0);
  }

  @AfterEach
  void stop() {
    GatewayMetrics.remove(vertx);
    vertx.close().await();
  }

  private LoginThrottle throttle(String node, int perAccount, int perAddress,
                                 Supplier<Future<AsyncMap<String, String>>> map) {
    return new LoginThrottle(vertx, node, perAccount, perAddress, map);
  }

  private LoginThrottle shared(String node, int perAccount, int perAddress) {
    return throttle(node, perAccount, perAddress,
        () -> vertx.sharedData().getAsyncMap(LoginThrottle.MAP));
  }

  /** A map whose every call never completes (slow) or fails at once. */
  @SuppressWarnings("unchecked")
  private static AsyncMap<String, String> brokenMap(boolean slow, AtomicInteger calls) {
    return (AsyncMap<String, String>) Proxy.newProxyInstance(
        LoginThrottleTest.class.getClassLoader(), new Class<?>[] {AsyncMap.class},
        (proxy, method, args) -> {
          calls.incrementAndGet();
          return slow ? Promise.promise().future()
              : Future.failedFuture(new IllegalStateException("partition is migrating"));
        });
  }

  private static Future<JsonObject> wrongPassword() {
    return Future.failedFuture(new ReplyException(ReplyFailure.RECIPIENT_FAILURE,
        FailureCodes.BAD_CREDENTIALS, "invalid id or password"));
  }

  /** The outcome of one guarded login: the failure it ended with, or null if it passed. */
  private Throwable attempt(LoginThrottle throttle, String account, String address,
                            Supplier<Future<JsonObject>> check) throws Exception {
    long started = System.nanoTime();
    // On an event loop, as a gateway calls it (its metrics are the event loop's node's).
    CompletableFuture<Future<JsonObject>> guarded = new CompletableFuture<>();
    context.runOnContext(v -> guarded.complete(throttle.guard(account, address, "c1", check)));
    Future<JsonObject> outcome = guarded.get(5, TimeUnit.SECONDS);
    try {
      outcome.await(BOUND_MS + 5000, TimeUnit.MILLISECONDS);
      return null;
    } catch (Exception e) {
      return outcome.failed() ? outcome.cause() : e;
    } finally {
      long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
      assertTrue(tookMs < BOUND_MS, "a guarded login took " + tookMs + " ms");
    }
  }

  private static void assertThrottled(Throwable outcome) {
    ProtocolException refused = assertInstanceOf(ProtocolException.class, outcome,
        String.valueOf(outcome));
    assertEquals(ErrorCode.RATE_LIMITED, refused.errno());
    assertTrue(refused.retryAfterMs() > 0, "retry_after_ms " + refused.retryAfterMs());
  }

  private static void assertBadPassword(Throwable outcome) {
    ReplyException failure = assertInstanceOf(ReplyException.class, outcome,
        String.valueOf(outcome));
    assertEquals(FailureCodes.BAD_CREDENTIALS, failure.failureCode());
  }

  @Test
  void failuresOnTwoNodesAreOneBudget() throws Exception {
    LoginThrottle a = shared("a", 3, 0);
    LoginThrottle b = shared("b", 3, 0);
    assertBadPassword(attempt(a, "id:7", "10.0.0.1", LoginThrottleTest::wrongPassword));
    assertBadPassword(attempt(b, "id:7", "10.0.0.2", LoginThrottleTest::wrongPassword));
    assertBadPassword(attempt(a, "id:7", "10.0.0.3", LoginThrottleTest::wrongPassword));
    AtomicInteger checks = new AtomicInteger();
    assertThrottled(attempt(b, "id:7", "10.0.0.4", () -> {
      checks.incrementAndGet();
      return Future.succeededFuture(new JsonObject());
    }));
    assertEquals(0, checks.get(), "a throttled login is not checked");
    assertNull(attempt(b, "id:8", "10.0.0.4", () -> Future.succeededFuture(new JsonObject())));
  }

  @Test
  void failuresRecordedAtTheSameTimeOnTwoNodesAreAllCounted() throws Exception {
    LoginThrottle a = shared("a", 0, 1000);
    LoginThrottle b = shared("b", 0, 1000);
    List<Future<JsonObject>> attempts = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      LoginThrottle node = i % 2 == 0 ? a : b;
      attempts.add(node.guard("id:" + i, "10.0.0.9", "c" + i, LoginThrottleTest::wrongPassword));
    }
    Future.join(attempts).otherwiseEmpty().await(20, TimeUnit.SECONDS);
    String value = vertx.sharedData().<String, String>getAsyncMap(LoginThrottle.MAP)
        .compose(m -> m.get("address/10.0.0.9")).await(5, TimeUnit.SECONDS);
    LoginThrottle.Allowance left = LoginThrottle.Allowance.decode(value);
    assertNotNull(left, value);
    // 40 failures of 1000; a few may have come back while they were counted (1000/min).
    double now = left.leftAt(1000, System.currentTimeMillis());
    assertTrue(now >= 960 - 0.001 && now < 975, "left " + now + " after 40 failures");
  }

  @Test
  void aSlowMapLeavesTheNodesOwnCountsInCharge() throws Exception {
    fallsBackWithBrokenMap(true);
  }

  @Test
  void aFailingMapLeavesTheNodesOwnCountsInCharge() throws Exception {
    fallsBackWithBrokenMap(false);
  }

  private void fallsBackWithBrokenMap(boolean slow) throws Exception {
    AtomicInteger calls = new AtomicInteger();
    AsyncMap<String, String> broken = brokenMap(slow, calls);
    fallsBackToLocalCounts(throttle("a", 3, 0, () -> Future.succeededFuture(broken)));
    assertTrue(calls.get() > 0, "the map was asked");
    assertTrue(metrics.counter("chat_login_throttle_fallbacks").count() >= 4,
        "fallbacks counted: " + metrics.counter("chat_login_throttle_fallbacks").count());
  }

  @Test
  void aStuckMapHoldsNoMoreThanAFewWorkerThreads() throws Exception {
    List<String> calls = new CopyOnWriteArrayList<>();
    @SuppressWarnings("unchecked")
    AsyncMap<String, String> stuck = (AsyncMap<String, String>) Proxy.newProxyInstance(
        LoginThrottleTest.class.getClassLoader(), new Class<?>[] {AsyncMap.class},
        (proxy, method, args) -> {
          calls.add(method.getName());
          return Promise.promise().future();
        });
    LoginThrottle node = throttle("a", 100, 0, () -> Future.succeededFuture(stuck));
    List<Future<JsonObject>> attempts = new ArrayList<>();
    for (int i = 0; i < 3 * LoginThrottle.MAX_WRITING; i++) {
      attempts.add(node.guard("id:" + i, "10.0.0.1", "c" + i, LoginThrottleTest::wrongPassword));
    }
    Future.join(attempts).otherwiseEmpty().await(BOUND_MS, TimeUnit.MILLISECONDS);
    for (Future<JsonObject> attempt : attempts) {
      assertBadPassword(attempt.cause());
    }
    assertEquals(LoginThrottle.MAX_WRITING,
        calls.stream().filter("putIfAbsent"::equals).count(), calls.toString());
  }

  @Test
  void aMapThatCannotBeHadLeavesTheNodesOwnCountsInCharge() throws Exception {
    fallsBackToLocalCounts(throttle("a", 3, 0,
        () -> Promise.<AsyncMap<String, String>>promise().future()));
    fallsBackToLocalCounts(throttle("b", 3, 0,
        () -> Future.failedFuture(new IllegalStateException("not joined"))));
  }

  private void fallsBackToLocalCounts(LoginThrottle node) throws Exception {
    assertNull(attempt(node, "id:1", "10.0.0.1", () -> Future.succeededFuture(new JsonObject())),
        "a good login goes through");
    for (int i = 0; i < 3; i++) {
      assertBadPassword(attempt(node, "id:2", "10.0.0.1", LoginThrottleTest::wrongPassword));
    }
    AtomicInteger checks = new AtomicInteger();
    assertThrottled(attempt(node, "id:2", "10.0.0.1", () -> {
      checks.incrementAndGet();
      return Future.succeededFuture(new JsonObject());
    }));
    assertEquals(0, checks.get());
    assertNull(attempt(node, "id:3", "10.0.0.1", () -> Future.succeededFuture(new JsonObject())),
        "another account still logs in");
  }

  private static void assertNull(Throwable outcome) {
    assertNull(outcome, "a login passed");
  }

  private static void assertNull(Throwable outcome, String what) {
    if (outcome != null) {
      throw new AssertionError(what + ", but got " + outcome, outcome);
    }
  }
}
