package chat.gateway.handler;

import chat.gateway.GatewayConfig;
import chat.gateway.GatewayMetrics;
import chat.gateway.bus.ServiceClient;
import chat.gateway.session.Session;
import chat.gateway.session.SessionLog;
import chat.protocol.bus.FailureCodes;
import chat.protocol.bus.InFlightLimit;
import chat.protocol.wire.ErrorCode;
import chat.protocol.wire.ProtocolException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.AsyncMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Password guessing is slowed per account and per client address: each may fail a password
 * login N times (CHAT_LOGIN_THROTTLE_ACCOUNT, CHAT_LOGIN_THROTTLE_ADDRESS) and then once
 * more every 60/N seconds; a login beyond that gets ERROR 429 with {@code retry_after_ms}
 * and is not even checked. Token logins are not throttled (a token cannot be guessed).
 *
 * <p>The allowance of each key lives in a cluster-wide map ({@link #MAP}), so every gateway
 * node sees the same counts; entries expire once idle long enough to be full again. The
 * check before a password login reads the map; only a failure writes it. The waits for the
 * map are bounded ({@link #MAP_TIMEOUT_MS}, {@link #RECORD_TIMEOUT_MS}), and so are the
 * worker threads its writes may hold ({@link #MAX_WRITING}): when the map is slow or fails
 * (a split, a migration) the node answers from its own counts, which it always keeps as
 * well, and logs that once until the map answers again. Throttling never blocks or fails a
 * login for want of the map.
 */
public final class LoginThrottle {

  private static final Logger LOG = LoggerFactory.getLogger(LoginThrottle.class);
  /** The cluster-wide map of allowances, keyed "account/..." and "address/...". */
  public static final String MAP = "chat.gateway.login.failures";
  /** The bound of each call to the cluster map. */
  static final long MAP_TIMEOUT_MS = 250;
  /** The bound of recording one failure in the cluster map (a few calls). */
  static final long RECORD_TIMEOUT_MS = 2 * MAP_TIMEOUT_MS;
  private static final long WINDOW_MS = 60_000;
  /** An entry idle this long is full again, as if it were absent. */
  private static final long TTL_MS = 2 * WINDOW_MS;
  private static final int MAX_ROUNDS = 8;
  /**
   * Vert.x runs the map's putIfAbsent and removeIfPresent on worker threads, where a call
   * may block for long while partitions migrate: at most this many failures are being
   * counted in the map at once, so the throttle never holds more worker threads.
   */
  static final int MAX_WRITING = 4;
  /** Failures waiting for their turn beyond this are counted on this node only. */
  static final int MAX_WAITING = 1000;
  private static final int MAX_KEYS = 100_000;
  /** How long the map must answer without a failure before the node says it is back. */
  static final long RECOVERED_MS = 30_000;

  /** Failures a key may still have ({@code left}), as computed at {@code atMs}. */
  record Allowance(double left, long atMs) {

    static Allowance oneFailure(int limit, long now) {
      return new Allowance(limit - 1, now);
    }

    /** The allowance now: it comes back at limit per window, up to the limit. */
    double leftAt(int limit, long now) {
      return Math.min(limit, left + Math.max(0, now - atMs) * (double) limit / WINDOW_MS);
    }

    /**
     * Two allowances that counted different failures (each started from a full one) as one:
     * the failures of both are counted.
     */
    Allowance merge(Allowance other, int limit, long now) {
      double left = leftAt(limit, now) + other.leftAt(limit, now) - limit;
      return new Allowance(Math.max(-limit, left), now);
    }

    String encode() {
      return left + "@" + atMs;
    }

    /** The allowance written by {@link #encode()}; null for anything else. */
    static Allowance decode(String value) {
      int at = value == null ? -1 : value.indexOf('@');
      if (at < 0) {
        return null;
      }
      try {
        return new Allowance(Double.parseDouble(value.substring(0, at)),
            Long.parseLong(value.substring(at + 1)));
      } catch (NumberFormatException e) {
        return null;
      }
    }
  }

  private final Vertx vertx;
  private final String nodeName;
  private final int perAccount;
  private final int perAddress;
  private final Supplier<Future<AsyncMap<String, String>>> mapSource;
  private final AtomicReference<Future<AsyncMap<String, String>>> map = new AtomicReference<>();
  private final AtomicBoolean degraded = new AtomicBoolean();
  private final AtomicInteger fallbacksInEpisode = new AtomicInteger();
  private volatile long lastMapFailureMs;
  private final InFlightLimit writes = new InFlightLimit(MAX_WRITING);
  private final Map<String, Allowance> accounts = new ConcurrentHashMap<>();
  private final Map<String, Allowance> addresses = new ConcurrentHashMap<>();

  LoginThrottle(Vertx vertx, String nodeName, int perAccount, int perAddress,
                Supplier<Future<AsyncMap<String, String>>> mapSource) {
    this.vertx = vertx;
    this.nodeName = nodeName;
    this.perAccount = perAccount;
    this.perAddress = perAddress;
    this.mapSource = mapSource;
  }

  /**
   * The throttle of a gateway node, counting in the cluster-wide map of {@code vertx} (in a
   * Vert.x that is not clustered, a map of this process).
   */
  public static LoginThrottle create(Vertx vertx, GatewayConfig config) {
    return new LoginThrottle(vertx, config.nodeName(), config.loginFailuresPerAccount(),
        config.loginFailuresPerAddress(), () -> vertx.sharedData().getAsyncMap(MAP));
  }

  /**
   * Runs the credential check unless the account or the address has failed too often; a
   * failed password check counts against both.
   */
  public <T> Future<T> guard(Session session, JsonObject request, Supplier<Future<T>> check) {
    if (request.getValue("token") != null) {
      return check.get();
    }
    String account = request.getValue("id") != null ? "id:" + request.getValue("id")
        : "name:" + request.getValue("name");
    return guard(account, host(session.remoteAddress()), session.connectionId(), check);
  }

  /** A password login of {@code account} from {@code address}. */
  <T> Future<T> guard(String account, String address, String connection,
                      Supplier<Future<T>> check) {
    GatewayMetrics metrics = GatewayMetrics.current();
    long now = System.currentTimeMillis();
    long localWaitMs = Math.max(waitMs(accounts.get(account), perAccount, now),
        waitMs(addresses.get(address), perAddress, now));
    // The node's own counts are a part of the cluster's: when they refuse, so would the map.
    Future<Long> waitMs = localWaitMs > 0 ? Future.succeededFuture(localWaitMs)
        : sharedWaitMs(account, address, now, metrics);
    return waitMs.compose(wait -> {
      if (wait > 0) {
        SessionLog.info(LOG, "login-throttled", connection, userOf(account),
            "login throttled on node {}: {} from {} (retry in {} ms)", nodeName, account,
            address, wait);
        return Future.failedFuture(new ProtocolException(ErrorCode.RATE_LIMITED,
            "too many failed logins: try again later", wait));
      }
      return check.get().recover(err -> {
        if (ServiceClient.failureCode(err) != FailureCodes.BAD_CREDENTIALS) {
          return Future.failedFuture(err);
        }
        SessionLog.info(LOG, "login-failed", connection, userOf(account),
            "failed login on node {}: {} from {} on {}", nodeName, account, address, connection);
        failedLocally(accounts, account, perAccount);
        failedLocally(addresses, address, perAddress);
        // The answer waits (boundedly) until the failure is counted cluster-wide, so that
        // the client's next attempt, on whatever node, sees it.
        return bounded(Future.join(failedShared("account/" + account, perAccount),
                failedShared("address/" + address, perAddress)), RECORD_TIMEOUT_MS)
            .transform(recorded -> {
              if (recorded.failed()) {
                mapFailed(recorded.cause(), metrics);
              } else {
                mapAnswered();
              }
              return Future.failedFuture(err);
            });
      });
    });
  }

  /** The wait the cluster map asks for; 0 when it does not answer in time. */
  private Future<Long> sharedWaitMs(String account, String address, long now,
                                    GatewayMetrics metrics) {
    if (perAccount <= 0 && perAddress <= 0) {
      return Future.succeededFuture(0L);
    }
    return bounded(map().compose(m -> Future.all(
            perAccount > 0 ? m.get("account/" + account) : Future.succeededFuture(),
            perAddress > 0 ? m.get("address/" + address) : Future.succeededFuture())),
        MAP_TIMEOUT_MS)
        .map(both -> {
          mapAnswered();
          return Math.max(waitMs(Allowance.decode(both.resultAt(0)), perAccount, now),
              waitMs(Allowance.decode(both.resultAt(1)), perAddress, now));
        })
        .otherwise(err -> {
          mapFailed(err, metrics);
          return 0L;
        });
  }

  /**
   * Counts one failure of {@code key} in the cluster map. Hazelcast's replace drops an
   * entry's time to live, so an entry is never replaced: it is taken out (removeIfPresent,
   * which only one node wins) and put back with its time to live (putIfAbsent). A value
   * another node put meanwhile started from a full allowance and is merged in. Between
   * the two calls a reader sees no entry: a check may pass that would have been refused
   * an instant later, as it may anyway while a password is being checked.
   */
  private Future<Void> failedShared(String key, int limit) {
    if (limit <= 0) {
      return Future.succeededFuture();
    }
    if (writes.waiting() >= MAX_WAITING) {
      return Future.failedFuture(new IllegalStateException(
          MAX_WAITING + " failures are waiting to be counted in the cluster map"));
    }
    return writes.submit(() -> map()
        .compose(m -> putBack(m, key, Allowance.oneFailure(limit, System.currentTimeMillis()),
            limit, 0)));
  }

  private Future<Void> putBack(AsyncMap<String, String> m, String key, Allowance held,
                               int limit, int round) {
    if (round >= MAX_ROUNDS) {
      return Future.failedFuture(new IllegalStateException(
          "entry " + key + " changed " + MAX_ROUNDS + " times while counting a failure"));
    }
    return m.putIfAbsent(key, held.encode(), TTL_MS)
        .compose(present -> {
          if (present == null) {
            return Future.succeededFuture();
          }
          Allowance there = Allowance.decode(present);
          return m.removeIfPresent(key, present)
              .compose(removed -> putBack(m, key, !removed ? held : there == null ? held
                  : held.merge(there, limit, System.currentTimeMillis()), limit, round + 1));
        });
  }

  private Future<AsyncMap<String, String>> map() {
    Future<AsyncMap<String, String>> current = map.get();
    if (current == null || current.failed()) {
      Future<AsyncMap<String, String>> fresh;
      try {
        fresh = mapSource.get();
      } catch (RuntimeException e) {
        fresh = Future.failedFuture(e);
      }
      return map.compareAndSet(current, fresh) ? fresh : map.get();
    }
    return current;
  }

  /** {@code call}, or a failure once it took longer than {@code timeoutMs}. */
  private <T> Future<T> bounded(Future<T> call, long timeoutMs) {
    if (call.isComplete()) {
      return call;
    }
    Promise<T> bounded = Promise.promise();
    long timer = vertx.setTimer(timeoutMs, id -> bounded.tryFail(
        new TimeoutException("the cluster map did not answer in " + timeoutMs + " ms")));
    call.onComplete(result -> {
      vertx.cancelTimer(timer);
      if (result.succeeded()) {
        bounded.tryComplete(result.result());
      } else {
        bounded.tryFail(result.cause());
      }
    });
    return bounded.future();
  }

  private void mapFailed(Throwable err, GatewayMetrics metrics) {
    metrics.loginThrottleFallback();
    lastMapFailureMs = System.currentTimeMillis();
    fallbacksInEpisode.incrementAndGet();
    if (degraded.compareAndSet(false, true)) {
      LOG.warn("login throttle on node {}: the cluster map failed ({}); counting this node's"
          + " failed logins only until it answers again", nodeName, err.toString());
    }
  }

  /**
   * An episode ends once the map has answered for {@link #RECOVERED_MS} with no failure in
   * between: on a loaded node the map may miss the bound every few seconds, and one line
   * per flip would flood the log.
   */
  private void mapAnswered() {
    if (degraded.get() && System.currentTimeMillis() - lastMapFailureMs >= RECOVERED_MS
        && degraded.compareAndSet(true, false)) {
      LOG.info("login throttle on node {}: the cluster map answers again ({} calls fell back to"
          + " this node's counts); failed logins are counted cluster-wide", nodeName,
          fallbacksInEpisode.getAndSet(0));
    }
  }

  /** 0 when the key may try now, else how long until it may. */
  private static long waitMs(Allowance allowance, int limit, long now) {
    if (limit <= 0 || allowance == null) {
      return 0;
    }
    double left = allowance.leftAt(limit, now);
    return left >= 1 ? 0 : (long) Math.ceil((1 - left) * WINDOW_MS / limit);
  }

  private static void failedLocally(Map<String, Allowance> keys, String key, int limit) {
    if (limit <= 0) {
      return;
    }
    long now = System.currentTimeMillis();
    if (keys.size() >= MAX_KEYS) {
      keys.values().removeIf(a -> a.leftAt(limit, now) >= limit);
    }
    keys.compute(key, (k, old) -> old == null ? Allowance.oneFailure(limit, now)
        : new Allowance(Math.max(-limit, old.leftAt(limit, now) - 1), now));
  }

  /** The user id of an account key "id:N"; -1 for a name or anything else. */
  private static long userOf(String account) {
    try {
      return account.startsWith("id:") ? Long.parseLong(account.substring(3)) : -1;
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /** The host part of "host:port" (IPv6 hosts keep their colons). */
  static String host(String address) {
    int colon = address == null ? -1 : address.lastIndexOf(':');
    return colon <= 0 ? String.valueOf(address) : address.substring(0, colon);
  }
}
