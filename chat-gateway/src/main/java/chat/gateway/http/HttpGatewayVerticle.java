package chat.gateway.http;

import chat.gateway.GatewayConfig;
import chat.gateway.TlsOptions;
import chat.gateway.bus.ServiceClient;
import chat.gateway.session.SessionRegistry;
import chat.gateway.ws.WebSocketAcceptor;
import chat.protocol.bus.Addresses;
import chat.protocol.bus.BusJson;
import chat.protocol.bus.gateway.Broadcast;
import chat.protocol.bus.presence.Ping;
import chat.protocol.bus.presence.States;
import chat.protocol.bus.presence.UserIds;
import chat.protocol.bus.user.Empty;
import chat.protocol.wire.Replies;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.core.spi.cluster.ClusterManager;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.StaticHandler;
import io.vertx.micrometer.PrometheusScrapingHandler;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway's HTTP side: WebSocket clients on {@code /ws} and the web chat page on
 * {@code /}; health, metrics and the presence and admin API for the platform, on the same
 * port or, with CHAT_INTERNAL_PORT, only on a separate plain-HTTP port.
 */
public final class HttpGatewayVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(HttpGatewayVerticle.class);
  private static final long READY_TIMEOUT_MS = 1_000;
  private static final long MAX_PRESTOP_DELAY_MS = 60_000;

  private final GatewayConfig config;
  private final SessionRegistry registry;
  private final WebSocketAcceptor webSockets;
  private final PrometheusMeterRegistry metrics;
  private HttpServer server;
  private HttpServer internal;
  private ServiceClient probes;
  private final ServiceClient services;
  /** Set by the preStop hook: the pod is about to be stopped and takes no new clients. */
  private volatile boolean stopping;

  public HttpGatewayVerticle(GatewayConfig config, SessionRegistry registry,
                             WebSocketAcceptor webSockets, ServiceClient services,
                             PrometheusMeterRegistry metrics) {
    this.services = services;
    this.config = config;
    this.registry = registry;
    this.webSockets = webSockets;
    this.metrics = metrics;
  }

  @Override
  public Future<?> start() {
    probes = new ServiceClient(vertx.eventBus(), READY_TIMEOUT_MS, config.servicesColocated());
    // Frames somewhat over the limit still reach the session, which answers ERROR 413 and
    // closes with 1009; far larger ones are refused by the WebSocket codec itself (1009).
    int wsLimit = Math.max(4 * config.maxFrameBytes(), 2 * 1024 * 1024);
    HttpServerOptions options = TlsOptions.apply(new HttpServerOptions()
        .setHost(config.bindHost())
        .setPort(config.httpPort())
        .setTcpKeepAlive(true)
        .setMaxWebSocketFrameSize(wsLimit)
        .setMaxWebSocketMessageSize(wsLimit), config);
    Router publicRouter = Router.router(vertx);
    if (!config.hasInternalPort()) {
      operations(publicRouter);
    }
    publicRouter.route("/*").handler(StaticHandler.create("webroot"));
    server = vertx.createHttpServer(options)
        .webSocketHandshakeHandler(webSockets::handshake)
        .webSocketHandler(webSockets::accept)
        .requestHandler(publicRouter);
    Future<HttpServer> listening = server.listen().onSuccess(s ->
        LOG.info("HTTP gateway listening on {}:{} (WebSocket {}{})", config.bindHost(),
            s.actualPort(), WebSocketAcceptor.PATH, config.tls() ? ", TLS only" : ""));
    if (!config.hasInternalPort()) {
      return listening;
    }
    Router internalRouter = Router.router(vertx);
    operations(internalRouter);
    internal = vertx.createHttpServer(new HttpServerOptions()
            .setHost(config.bindHost()).setPort(config.internalPort()))
        .requestHandler(internalRouter);
    return listening.compose(s -> internal.listen()).onSuccess(s ->
        LOG.info("internal HTTP (health, metrics, API) listening on {}:{}", config.bindHost(),
            s.actualPort()));
  }

  public int actualPort() {
    return server.actualPort();
  }

  /** The internal port actually bound, or -1 when health and metrics share the HTTP port. */
  public int actualInternalPort() {
    return internal == null ? -1 : internal.actualPort();
  }

  /** Health, metrics and the API: for probes, scrapers and operators. */
  private void operations(Router router) {
    router.get("/health/live").handler(rc -> json(rc, 200, new JsonObject().put("status", "UP")));
    router.get("/health/ready").handler(this::ready);
    router.get("/health/prestop").handler(this::preStop);
    if (metrics != null) {
      router.get("/metrics").handler(PrometheusScrapingHandler.create(metrics));
    }
    router.get("/api/presence/:id").handler(this::presence);
    router.post("/api/admin/broadcast").handler(BodyHandler.create(false).setBodyLimit(64 * 1024))
        .handler(this::broadcast);
  }

  /**
   * Ready when this pod can take clients: its listeners are open (it is not draining), it is
   * a member of the cluster, presence answers (this node's own when it runs presence) and a
   * user service is there to answer (this node's own when it runs one). The database is
   * reported but does not decide: while it is down, logins get ERROR 503 and chat between
   * online users goes on, so taking the pod out of the Service would only hurt.
   */
  private void ready(RoutingContext rc) {
    JsonObject checks = new JsonObject();
    boolean up = true;
    if (registry.isDraining() || stopping) {
      checks.put("listeners", stopping ? "stopping" : "draining");
      up = false;
    } else {
      checks.put("listeners", "up");
    }
    if (clusterJoined()) {
      checks.put("cluster", "joined");
    } else {
      checks.put("cluster", "not joined");
      up = false;
    }
    boolean base = up;
    Future<Boolean> presence = probes.request(Addresses.PRESENCE_PING, BusJson.toJson(new Ping()))
        .map(reply -> true).otherwise(false);
    Future<String> database = probes.request(Addresses.USER_PING, Empty.INSTANCE, Empty.class)
        .map(reply -> "up")
        .otherwise(err -> failure(err) == ReplyFailure.NO_HANDLERS ? "no user service"
            : failure(err) == ReplyFailure.TIMEOUT ? "unknown" : "down");
    Future.join(presence, database).onComplete(ar -> {
      checks.put("presence", presence.result() ? "up" : "down");
      boolean userService = !"no user service".equals(database.result());
      checks.put("user", userService ? "up" : "down");
      checks.put("database", userService ? database.result() : "unknown");
      boolean ready = base && presence.result() && userService;
      json(rc, ready ? 200 : 503, new JsonObject()
          .put("status", ready ? "UP" : "DOWN")
          .put("node", config.nodeName())
          .put("checks", checks)
          .put("connections", registry.connections())
          .put("users", registry.users()));
    });
  }

  /**
   * Kubernetes' preStop hook: from now on the pod is unready, and the answer comes after
   * {@code delay_ms} (default 5000), long enough for the load balancers that probe the pod
   * to stop sending clients before SIGTERM starts the drain.
   */
  private void preStop(RoutingContext rc) {
    long delayMs;
    try {
      String given = rc.request().getParam("delay_ms");
      delayMs = given == null ? 5_000 : Long.parseLong(given);
    } catch (NumberFormatException e) {
      delayMs = -1;
    }
    if (delayMs < 0 || delayMs > MAX_PRESTOP_DELAY_MS) {
      json(rc, 400, new JsonObject().put("error", "delay_ms must be within 0.." + MAX_PRESTOP_DELAY_MS));
      return;
    }
    stopping = true;
    LOG.info("node {} is about to stop: readiness is now 503, drain in {} ms", config.nodeName(),
        delayMs);
    vertx.setTimer(Math.max(1, delayMs), t -> json(rc, 200, new JsonObject().put("status", "stopping")));
  }

  private boolean clusterJoined() {
    ClusterManager cluster = ((VertxInternal) vertx).clusterManager();
    if (cluster == null) {
      return true;
    }
    try {
      return cluster.isActive() && cluster.getNodes().contains(cluster.getNodeId());
    } catch (RuntimeException e) {
      return false;
    }
  }

  private static ReplyFailure failure(Throwable err) {
    return err instanceof ReplyException re ? re.failureType() : ReplyFailure.ERROR;
  }

  private void presence(RoutingContext rc) {
    int id;
    try {
      id = Integer.parseInt(rc.pathParam("id"));
      if (id < 0) {
        throw new NumberFormatException();
      }
    } catch (NumberFormatException e) {
      json(rc, 400, new JsonObject().put("error", "id must be a non-negative integer"));
      return;
    }
    services.request(Addresses.PRESENCE_QUERY, BusJson.toJson(UserIds.of(id)))
        .map(reply -> BusJson.fromJson(reply, States.class))
        .onSuccess(reply -> json(rc, 200, new JsonObject().put("id", id)
            .put("state", reply.stateOf(id))))
        .onFailure(err -> json(rc, 503, new JsonObject().put("error", "presence unavailable")));
  }

  private void broadcast(RoutingContext rc) {
    if (config.adminToken() == null || config.adminToken().isEmpty()) {
      json(rc, 404, new JsonObject().put("error", "admin API is off (no CHAT_ADMIN_TOKEN)"));
      return;
    }
    if (!authorized(rc.request().getHeader("Authorization"))) {
      json(rc, 401, new JsonObject().put("error", "bearer token required"));
      return;
    }
    String msg;
    try {
      msg = rc.body().asJsonObject().getString("msg");
    } catch (DecodeException | ClassCastException | NullPointerException e) {
      msg = null;
    }
    if (msg == null) {
      json(rc, 400, new JsonObject().put("error", "body must be {\"msg\":\"...\"}"));
      return;
    }
    vertx.eventBus().publish(Addresses.GATEWAY_BROADCAST,
        BusJson.toJson(new Broadcast(Replies.broadcast(msg))));
    LOG.info("broadcast sent from node {}", config.nodeName());
    json(rc, 202, new JsonObject().put("status", "sent"));
  }

  private boolean authorized(String header) {
    String expected = "Bearer " + config.adminToken();
    return header != null && MessageDigest.isEqual(
        header.getBytes(StandardCharsets.UTF_8), expected.getBytes(StandardCharsets.UTF_8));
  }

  private static void json(RoutingContext rc, int status, JsonObject body) {
    rc.response().setStatusCode(status).putHeader("Content-Type", "application/json")
        .end(body.encode());
  }
}
