package chat.gateway.http;

import chat.gateway.GatewayConfig;
import chat.gateway.bus.ServiceClient;
import chat.gateway.session.SessionRegistry;
import chat.gateway.ws.WebSocketAcceptor;
import chat.protocol.bus.Addresses;
import chat.protocol.wire.Replies;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.StaticHandler;
import io.vertx.micrometer.PrometheusScrapingHandler;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway's HTTP side: WebSocket clients on {@code /ws}, health and metrics for the
 * platform, the presence and admin API, and the web chat page on {@code /}.
 */
public final class HttpGatewayVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(HttpGatewayVerticle.class);
  private static final long READY_TIMEOUT_MS = 1_000;

  private final GatewayConfig config;
  private final SessionRegistry registry;
  private final WebSocketAcceptor webSockets;
  private final PrometheusMeterRegistry metrics;
  private HttpServer server;
  private ServiceClient probes;
  private final ServiceClient services;

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
    probes = new ServiceClient(vertx.eventBus(), READY_TIMEOUT_MS, false);
    // Frames somewhat over the limit still reach the session, which answers ERROR 413 and
    // closes with 1009; far larger ones are refused by the WebSocket codec itself (1009).
    int wsLimit = Math.max(4 * config.maxFrameBytes(), 2 * 1024 * 1024);
    HttpServerOptions options = new HttpServerOptions()
        .setHost(config.bindHost())
        .setPort(config.httpPort())
        .setTcpKeepAlive(true)
        .setMaxWebSocketFrameSize(wsLimit)
        .setMaxWebSocketMessageSize(wsLimit);
    server = vertx.createHttpServer(options)
        .webSocketHandshakeHandler(webSockets::handshake)
        .webSocketHandler(webSockets::accept)
        .requestHandler(router());
    return server.listen().onSuccess(s ->
        LOG.info("HTTP gateway listening on {}:{} (WebSocket {})", config.bindHost(),
            s.actualPort(), WebSocketAcceptor.PATH));
  }

  public int actualPort() {
    return server.actualPort();
  }

  private Router router() {
    Router router = Router.router(vertx);
    router.get("/health/live").handler(rc -> json(rc, 200, new JsonObject().put("status", "UP")));
    router.get("/health/ready").handler(this::ready);
    if (metrics != null) {
      router.get("/metrics").handler(PrometheusScrapingHandler.create(metrics));
    }
    router.get("/api/presence/:id").handler(this::presence);
    router.post("/api/admin/broadcast").handler(BodyHandler.create(false).setBodyLimit(64 * 1024))
        .handler(this::broadcast);
    router.route("/*").handler(StaticHandler.create("webroot"));
    return router;
  }

  /** Ready when logins can be served: the user and presence services both answer. */
  private void ready(RoutingContext rc) {
    Future.all(List.of(
            probes.request(Addresses.USER_PING, new JsonObject()),
            probes.request(Addresses.PRESENCE_PING, new JsonObject())))
        .onSuccess(v -> json(rc, 200, new JsonObject().put("status", "UP")
            .put("node", config.nodeName())
            .put("connections", registry.connections())
            .put("users", registry.users())))
        .onFailure(err -> json(rc, 503, new JsonObject().put("status", "DOWN")
            .put("reason", err.getMessage())));
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
    services.request(Addresses.PRESENCE_QUERY, new JsonObject().put("ids", new JsonArray().add(id)))
        .onSuccess(reply -> json(rc, 200, new JsonObject().put("id", id)
            .put("state", reply.getJsonObject("states").getString(String.valueOf(id), "offline"))))
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
        new JsonObject().put("payload", Replies.broadcast(msg)));
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
