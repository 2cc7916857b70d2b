package chat.gateway.handler;

import chat.gateway.GatewayConfig;
import chat.gateway.bus.ServiceClient;
import chat.gateway.session.Session;
import chat.protocol.bus.FailureCodes;
import chat.protocol.wire.ErrorCode;
import chat.protocol.wire.ProtocolException;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Password guessing is slowed per account and per client address: each may fail a password
 * login N times (CHAT_LOGIN_THROTTLE_ACCOUNT, CHAT_LOGIN_THROTTLE_ADDRESS) and then once
 * more every 60/N seconds; a login beyond that gets ERROR 429 with {@code retry_after_ms}
 * and is not even checked. Token logins are not throttled (a token cannot be guessed).
 * Counts are per gateway node, kept in memory, and forget idle keys.
 */
public final class LoginThrottle {

  private static final Logger LOG = LoggerFactory.getLogger(LoginThrottle.class);
  private static final Map<String, LoginThrottle> BY_NODE = new ConcurrentHashMap<>();
  private static final long WINDOW_MS = 60_000;
  private static final int MAX_KEYS = 100_000;

  /** Failures a key may still have now, and when that was computed. */
  private record Allowance(double failures, long atMs) {
  }

  private final String nodeName;
  private final int perAccount;
  private final int perAddress;
  private final Map<String, Allowance> accounts = new ConcurrentHashMap<>();
  private final Map<String, Allowance> addresses = new ConcurrentHashMap<>();

  private LoginThrottle(String nodeName, int perAccount, int perAddress) {
    this.nodeName = nodeName;
    this.perAccount = perAccount;
    this.perAddress = perAddress;
  }

  /** The throttle of this gateway node. */
  public static LoginThrottle of(GatewayConfig config) {
    return BY_NODE.computeIfAbsent(config.nodeId(), id -> new LoginThrottle(config.nodeName(),
        config.loginFailuresPerAccount(), config.loginFailuresPerAddress()));
  }

  /**
   * Runs the credential check unless the account or the address has failed too often; a
   * failed password check counts against both.
   */
  public Future<JsonObject> guard(Session session, JsonObject request,
                                  Supplier<Future<JsonObject>> check) {
    if (request.getValue("token") != null) {
      return check.get();
    }
    String account = request.getValue("id") != null ? "id:" + request.getValue("id")
        : "name:" + request.getValue("name");
    String address = host(session.remoteAddress());
    long now = System.currentTimeMillis();
    long waitMs = Math.max(waitMs(accounts, account, perAccount, now),
        waitMs(addresses, address, perAddress, now));
    if (waitMs > 0) {
      LOG.info("login throttled on node {}: {} from {} (retry in {} ms)", nodeName, account,
          address, waitMs);
      return Future.failedFuture(new ProtocolException(ErrorCode.RATE_LIMITED,
          "too many failed logins: try again later", waitMs));
    }
    return check.get().onFailure(err -> {
      if (ServiceClient.failureCode(err) == FailureCodes.BAD_CREDENTIALS) {
        LOG.info("failed login on node {}: {} from {} on {}", nodeName, account, address,
            session.connectionId());
        failed(accounts, account, perAccount);
        failed(addresses, address, perAddress);
      }
    });
  }

  /** 0 when the key may try now, else how long until it may. */
  private static long waitMs(Map<String, Allowance> keys, String key, int limit, long now) {
    if (limit <= 0) {
      return 0;
    }
    Allowance allowance = keys.get(key);
    if (allowance == null) {
      return 0;
    }
    double left = refilled(allowance, limit, now);
    return left >= 1 ? 0 : (long) Math.ceil((1 - left) * WINDOW_MS / limit);
  }

  private static void failed(Map<String, Allowance> keys, String key, int limit) {
    if (limit <= 0) {
      return;
    }
    long now = System.currentTimeMillis();
    if (keys.size() >= MAX_KEYS) {
      keys.values().removeIf(a -> refilled(a, limit, now) >= limit);
    }
    keys.compute(key, (k, old) -> new Allowance(
        (old == null ? limit : refilled(old, limit, now)) - 1, now));
  }

  private static double refilled(Allowance allowance, int limit, long now) {
    return Math.min(limit, allowance.failures() + (now - allowance.atMs()) * (double) limit / WINDOW_MS);
  }

  /** The host part of "host:port" (IPv6 hosts keep their colons). */
  static String host(String address) {
    int colon = address == null ? -1 : address.lastIndexOf(':');
    return colon <= 0 ? String.valueOf(address) : address.substring(0, colon);
  }
}
