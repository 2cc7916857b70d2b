package chat.gateway;

import chat.protocol.wire.ErrorCode;
import chat.protocol.wire.MsgId;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * The gateway's application metrics (Prometheus names, see chat-gateway/README.md). Code on
 * a node's event loops reaches its node's instance with {@link #current()}, so a counter is
 * one call wherever the event happens; outside any node (unit tests, other threads) the
 * calls go to a registry that keeps nothing.
 */
public final class GatewayMetrics {

  private static final Map<Vertx, GatewayMetrics> BY_NODE = new ConcurrentHashMap<>();
  private static final GatewayMetrics NONE = new GatewayMetrics(new CompositeMeterRegistry());

  private final MeterRegistry registry;
  private final Map<String, AtomicInteger> connections = new ConcurrentHashMap<>();
  private final Counter offlineStored;
  private final Counter offlineDelivered;
  private final Counter offlineAcknowledged;
  private final Counter kicks;
  private final Counter heartbeatTimeouts;
  private final Counter authTimeouts;
  private final Counter slowConsumers;
  /** Meters of the per-message paths, by type: looked up once, not at every message. */
  private final Map<String, Counter> messagesIn = new ConcurrentHashMap<>();
  private final Map<String, Counter> messagesOut = new ConcurrentHashMap<>();
  private final Map<String, Timer> deliveries = new ConcurrentHashMap<>();
  /**
   * The other tagged counters, by name and tag values, looked up in the registry once: its
   * lookup builds, sorts and hashes a meter id at each call, and every connection, login and
   * disconnect counts a few.
   */
  private final Map<String, Map<String, Counter>> tagged = new ConcurrentHashMap<>();

  private GatewayMetrics(MeterRegistry registry) {
    this.registry = registry;
    this.offlineStored = Counter.builder("chat_offline_messages_stored")
        .description("chat messages stored for a user who was not reached").register(registry);
    this.offlineDelivered = Counter.builder("chat_offline_messages_delivered")
        .description("stored messages handed to a client in a login ack or an OFFLINE_ACK page")
        .register(registry);
    this.offlineAcknowledged = Counter.builder("chat_offline_acks")
        .description("OFFLINE_ACK requests that deleted stored messages").register(registry);
    this.kicks = Counter.builder("chat_kicks")
        .description("sessions closed because the account logged in elsewhere").register(registry);
    this.heartbeatTimeouts = Counter.builder("chat_heartbeat_timeouts")
        .description("clients closed after their heartbeat timeout").register(registry);
    this.authTimeouts = Counter.builder("chat_auth_timeouts")
        .description("visitors closed for not logging in in time").register(registry);
    this.slowConsumers = Counter.builder("chat_slow_consumers")
        .description("clients cut off for not reading their output").register(registry);
  }

  /**
   * Creates the metrics of the gateway on this Vert.x instance.
   *
   * @param userSessions the logged-in user sessions on this node, read at each scrape
   * @param users        the distinct users logged in on this node, read at each scrape
   */
  public static GatewayMetrics create(Vertx vertx, MeterRegistry registry,
                                      Supplier<Number> userSessions, Supplier<Number> users) {
    GatewayMetrics metrics = new GatewayMetrics(registry == null ? new CompositeMeterRegistry() : registry);
    Gauge.builder("chat_sessions_online", userSessions)
        .description("logged-in user sessions on this node").register(metrics.registry);
    Gauge.builder("chat_users", users)
        .description("distinct users logged in on this node").register(metrics.registry);
    BY_NODE.put(vertx, metrics);
    return metrics;
  }

  /** The metrics of the node whose event loop runs the caller (a no-op one elsewhere). */
  public static GatewayMetrics current() {
    Context context = Vertx.currentContext();
    return context == null ? NONE : BY_NODE.getOrDefault(context.owner(), NONE);
  }

  /** Stops routing calls on this Vert.x instance here (the node is stopping). */
  public static void remove(Vertx vertx) {
    BY_NODE.remove(vertx);
  }

  // ---- connections ----

  public void opened(String transport) {
    connections.computeIfAbsent(transport, t -> {
      AtomicInteger count = new AtomicInteger();
      Gauge.builder("chat_connections", count, AtomicInteger::get).tag("transport", t)
          .description("client connections held by this node").register(registry);
      return count;
    }).incrementAndGet();
    counter("chat_connections_opened", "transport", transport).increment();
  }

  public void closed(String transport, CloseReason reason) {
    AtomicInteger count = connections.get(transport);
    if (count != null) {
      count.decrementAndGet();
    }
    counter("chat_disconnects", "transport", transport,
        "reason", reason.name().toLowerCase(Locale.ROOT)).increment();
    switch (reason) {
      case KICKED -> {
        kicks.increment();
        counter("chat_login_conflicts", "outcome", "kicked").increment();
      }
      case HEARTBEAT_TIMEOUT -> heartbeatTimeouts.increment();
      case AUTH_TIMEOUT -> authTimeouts.increment();
      case SLOW_CONSUMER -> slowConsumers.increment();
      case TOO_LARGE -> refused("too_large");
      default -> { }
    }
  }

  // ---- requests and replies ----

  /** A request read from a client. */
  public void received(JsonObject request) {
    Object msgid = request.getValue("msgid");
    messageIn(typeOf(msgid)).increment();
    if (Integer.valueOf(MsgId.LOGIN).equals(msgid)) {
      counter("chat_login_attempts", "method",
          request.getValue("token") != null ? "token" : "password").increment();
    }
  }

  /** A PING read from a client and recognised without parsing it (as {@link #received}). */
  public void receivedPing() {
    messageIn("ping").increment();
  }

  /** A PONG written (or about to be written) to a client (as {@link #sent}). */
  public void sentPong() {
    messageOut("pong").increment();
  }

  /** An ACK written as text (see {@code Replies.ackText}), as {@link #sent} counts one. */
  public void sentAck() {
    messageOut(typeOf(MsgId.ACK)).increment();
  }

  /** A chat written from its text (as {@link #sent} counts one). */
  public void sentChat(int msgid) {
    messageOut(typeOf(msgid)).increment();
  }

  /** A message written (or about to be written) to a client. */
  public void sent(JsonObject message) {
    Object msgid = message.getValue("msgid");
    messageOut(typeOf(msgid)).increment();
    if (!(msgid instanceof Integer id)) {
      return;
    }
    switch (id) {
      case MsgId.LOGIN_ACK -> loginAck(message);
      case MsgId.REG_ACK -> counter("chat_registrations",
          "result", message.getInteger("errno", 0) == 0 ? "ok" : "refused").increment();
      case MsgId.ERROR -> error(message);
      case MsgId.ACK -> {
        if (Integer.valueOf(MsgId.OFFLINE_ACK).equals(message.getValue("ref"))) {
          offlineAcknowledged.increment();
          if (message.getValue("offlinemsg") instanceof JsonArray page) {
            offlineDelivered.increment(page.size());
          }
        }
      }
      default -> { }
    }
  }

  private void loginAck(JsonObject ack) {
    int errno = ack.getInteger("errno", 0);
    String result = switch (errno) {
      case 0 -> "ok";
      case 1 -> "bad_credentials";
      case 2 -> "already_online";
      default -> "other";
    };
    counter("chat_logins", "result", result).increment();
    if (errno == 2) {
      counter("chat_login_conflicts", "outcome", "rejected").increment();
    }
    if (ack.getValue("offlinemsg") instanceof JsonArray offline) {
      offlineDelivered.increment(offline.size());
    }
  }

  private void error(JsonObject error) {
    int errno = error.getInteger("errno", 0);
    boolean login = Integer.valueOf(MsgId.LOGIN).equals(error.getValue("ref"));
    if (errno == ErrorCode.RATE_LIMITED) {
      refused(login && error.containsKey("retry_after_ms") ? "login_throttled" : "rate_limited");
    } else if (errno == ErrorCode.TOO_LARGE) {
      refused("too_large");
    }
    if (login) {
      counter("chat_logins", "result", "error_" + errno).increment();
    }
  }

  /**
   * The login throttle's cluster map did not answer in time or failed: the node answered
   * from its own counts.
   */
  public void loginThrottleFallback() {
    registry.counter("chat_login_throttle_fallbacks").increment();
  }

  private void refused(String reason) {
    counter("chat_requests_refused", "reason", reason).increment();
  }

  // ---- delivery and the services ----

  /**
   * Times a chat from its request until {@code done} runs (every recipient's node took it,
   * or it was stored, or refused); the returned action records once, then runs {@code done}.
   */
  public Runnable timeDelivery(String type, Runnable done) {
    long start = System.nanoTime();
    Timer timer = deliveries.computeIfAbsent(type, t -> Timer.builder("chat_delivery")
        .tag("type", t)
        .description("from a chat request until each recipient's node took it or it was stored")
        .publishPercentileHistogram()
        .minimumExpectedValue(Duration.ofMillis(1))
        .maximumExpectedValue(Duration.ofSeconds(10))
        .register(registry));
    boolean[] recorded = new boolean[1];
    return () -> {
      if (!recorded[0]) {
        recorded[0] = true;
        timer.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
      }
      done.run();
    };
  }

  /** Messages stored for users who were not reached. */
  public void offlineStored(int users) {
    offlineStored.increment(users);
  }

  /** A request to another service failed (timeout, no handler, or refused). */
  public void requestFailed(String address, Throwable err) {
    String failure = err instanceof ReplyException re
        ? re.failureType().name().toLowerCase(Locale.ROOT) : "error";
    counter("chat_bus_request_failures", "address", address, "failure", failure).increment();
  }

  private Counter messageIn(String type) {
    return messagesIn.computeIfAbsent(type,
        t -> registry.counter("chat_messages_in", "type", t));
  }

  private Counter messageOut(String type) {
    return messagesOut.computeIfAbsent(type,
        t -> registry.counter("chat_messages_out", "type", t));
  }

  /** The counter {@code name} with one tag, from {@link #tagged}. */
  private Counter counter(String name, String tag, String value) {
    return tagged.computeIfAbsent(name, n -> new ConcurrentHashMap<>())
        .computeIfAbsent(value, v -> registry.counter(name, tag, v));
  }

  /** The counter {@code name} with two tags, from {@link #tagged}. */
  private Counter counter(String name, String tag, String value, String tag2, String value2) {
    return tagged.computeIfAbsent(name, n -> new ConcurrentHashMap<>())
        .computeIfAbsent(value + '\n' + value2,
            v -> registry.counter(name, tag, value, tag2, value2));
  }

  private static String typeOf(Object msgid) {
    if (!(msgid instanceof Integer id)) {
      return "invalid";
    }
    return switch (id) {
      case MsgId.LOGIN -> "login";
      case MsgId.LOGIN_ACK -> "login_ack";
      case MsgId.LOGINOUT -> "logout";
      case MsgId.REG -> "reg";
      case MsgId.REG_ACK -> "reg_ack";
      case MsgId.ONE_CHAT -> "one_chat";
      case MsgId.ADD_FRIEND -> "add_friend";
      case MsgId.CREATE_GROUP -> "create_group";
      case MsgId.ADD_GROUP -> "add_group";
      case MsgId.GROUP_CHAT -> "group_chat";
      case MsgId.PING -> "ping";
      case MsgId.PONG -> "pong";
      case MsgId.KICKED -> "kicked";
      case MsgId.PRESENCE -> "presence";
      case MsgId.ERROR -> "error";
      case MsgId.ACK -> "ack";
      case MsgId.SERVER_CLOSING -> "server_closing";
      case MsgId.PRESENCE_QUERY -> "presence_query";
      case MsgId.BROADCAST -> "broadcast";
      case MsgId.OFFLINE_ACK -> "offline_ack";
      case MsgId.HISTORY -> "history";
      case MsgId.FRIEND -> "friend";
      default -> "unknown";
    };
  }
}
