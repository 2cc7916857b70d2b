package chat.gateway.node;

import chat.gateway.CloseReason;
import chat.gateway.GatewayConfig;
import chat.gateway.GatewayMetrics;
import chat.gateway.bus.ServiceClient;
import chat.gateway.handler.Delivery;
import chat.gateway.handler.LoginThrottle;
import chat.gateway.handler.MessageStore;
import chat.gateway.handler.Requests;
import chat.gateway.http.HttpGatewayVerticle;
import chat.gateway.report.SessionDigestReporter;
import chat.gateway.report.SessionEndReporter;
import chat.gateway.session.SessionRegistry;
import chat.gateway.session.UniqueIds;
import chat.gateway.tcp.TcpGatewayVerticle;
import chat.gateway.ws.WebSocketAcceptor;
import chat.protocol.bus.Addresses;
import chat.protocol.bus.BusJson;
import chat.protocol.bus.LoginPolicy;
import chat.protocol.bus.presence.Drain;
import chat.protocol.wire.Replies;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway role of a node: the node's event-bus side first, then the TCP and HTTP
 * listeners. {@link #drain()} is the graceful stop.
 */
public final class GatewayService {

  private static final Logger LOG = LoggerFactory.getLogger(GatewayService.class);

  private final Vertx vertx;
  private final GatewayConfig config;
  private final SessionRegistry registry;
  private final ServiceClient services;
  private final List<String> deployments = new ArrayList<>();
  private SessionEndReporter reporter;
  private SessionDigestReporter digests;
  private TcpGatewayVerticle tcp;
  private HttpGatewayVerticle http;

  private GatewayService(Vertx vertx, GatewayConfig config) {
    this.vertx = vertx;
    this.config = config;
    this.registry = new SessionRegistry();
    this.services = new ServiceClient(vertx.eventBus(), config.requestTimeoutMs(),
        config.servicesColocated());
  }

  public static Future<GatewayService> deploy(Vertx vertx, GatewayConfig config,
                                              PrometheusMeterRegistry metrics) {
    GatewayService gateway = new GatewayService(vertx, config);
    return gateway.start(metrics).map(v -> gateway);
  }

  private Future<Void> start(PrometheusMeterRegistry metrics) {
    MessageStore store = new MessageStore(services, 2 * config.requestTimeoutMs(),
        vertx.getOrCreateContext(), config.historyDays() > 0);
    Delivery delivery = new Delivery(vertx.eventBus(), services, store,
        config.requestTimeoutMs(), config.loginPolicy() == LoginPolicy.MULTI, config.nodeId(),
        registry);
    Requests requests = new Requests(config, services, delivery,
        LoginThrottle.create(vertx, config));
    reporter = new SessionEndReporter(vertx, services, config.nodeId(),
        config.requestTimeoutMs());
    digests = new SessionDigestReporter(vertx, config.nodeId(), registry, config.repairSeconds());
    UniqueIds connectionIds = new UniqueIds(config.nodeId(), ':');
    WebSocketAcceptor webSockets = new WebSocketAcceptor(vertx, config, registry, connectionIds,
        requests, reporter);
    GatewayMetrics.create(vertx, metrics, registry::userSessions, registry::users);
    // One listener; it spreads its connections over tcpInstances event loops itself.
    tcp = new TcpGatewayVerticle(config, registry, connectionIds, requests, reporter);
    return record(vertx.deployVerticle(new NodeBusVerticle(config.nodeId(), registry, requests)))
        .compose(v -> record(vertx.deployVerticle(tcp)))
        .compose(v -> {
          http = new HttpGatewayVerticle(config, registry, webSockets, services, metrics);
          return record(vertx.deployVerticle(http));
        })
        .onSuccess(v -> digests.start());
  }

  private Future<Void> record(Future<String> deployment) {
    return deployment.map(id -> {
      deployments.add(id);
      return null;
    });
  }

  public int tcpPort() {
    return tcp.actualPort();
  }

  public int httpPort() {
    return http.actualPort();
  }

  /** The port of health, metrics and the API: the internal port if set, else the HTTP port. */
  public int internalPort() {
    return config.hasInternalPort() ? http.actualInternalPort() : http.actualPort();
  }

  public SessionRegistry sessions() {
    return registry;
  }

  /**
   * Graceful stop: stop accepting, send SERVER_CLOSING to every client and close it, wait
   * until presence confirmed each session's end (and with it the user's transition: row
   * written, friends told, on whatever node), then have presence remove whatever is left of
   * this node's sessions the same way. Only then may the node stop its own services.
   * Bounded: about three request timeouts, each wait logged if its bound is hit.
   */
  public Future<Void> drain() {
    LOG.info("draining node {}: {} connections", config.nodeName(), registry.connections());
    long started = System.nanoTime();
    digests.stop();
    // Every client is told and closed first (a connection arriving meanwhile is closed at
    // once), then the listeners stop: stopping a listener closes its connections at once.
    return registry.closeAll(CloseReason.SERVER_CLOSING, Replies.serverClosing(config.reconnectAfterMs()))
        .compose(v -> {
          List<Future<?>> undeploys = new ArrayList<>();
          for (int i = deployments.size() - 1; i >= 1; i--) {
            undeploys.add(vertx.undeploy(deployments.get(i)));
          }
          return Future.join(undeploys);
        })
        .compose(v -> reporter.allConfirmed(2 * config.requestTimeoutMs()))
        .compose(v -> services.request(Addresses.PRESENCE_NODE_DRAIN,
            BusJson.toJson(new Drain(config.nodeId()))))
        .map(reply -> BusJson.fromJson(reply, Drain.Reply.class))
        .onSuccess(reply -> LOG.info("node {} drained in {} ms ({} sessions were left to remove)",
            config.nodeName(), (System.nanoTime() - started) / 1_000_000, reply.users()))
        .onFailure(err -> LOG.warn("presence did not confirm the drain of node {}: {}",
            config.nodeName(), err.getMessage()))
        .<Void>mapEmpty()
        .otherwiseEmpty()
        .andThen(ar -> GatewayMetrics.remove(vertx));
  }
}
