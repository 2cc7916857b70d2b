package chat.gateway;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import chat.gateway.node.GatewayService;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/** One gateway on a local (not clustered) Vert.x, its services faked on the event bus. */
final class GatewayHarness implements AutoCloseable {

  final Vertx vertx;
  final FakeServices services;
  final GatewayService gateway;
  final String nodeId;

  private GatewayHarness(Vertx vertx, FakeServices services, GatewayService gateway,
                         String nodeId) {
    this.vertx = vertx;
    this.services = services;
    this.gateway = gateway;
    this.nodeId = nodeId;
  }

  static GatewayHarness start(JsonObject settings) throws Exception {
    return start(settings, false);
  }

  /** With {@code nativeTransport}, on Netty's epoll transport (as a node runs), if it loads. */
  static GatewayHarness start(JsonObject settings, boolean nativeTransport) throws Exception {
    Vertx vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(nativeTransport));
    FakeServices services = new FakeServices(vertx);
    String nodeId = UUID.randomUUID().toString();
    JsonObject json = new JsonObject().put("nodeId", nodeId).put("tcpPort", 0).put("httpPort", 0)
        .put("bindHost", "127.0.0.1").put("requestTimeoutMs", 2000L).mergeIn(settings);
    PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    GatewayService gateway = GatewayService.deploy(vertx, GatewayConfig.from(json), metrics)
        .toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    GatewayHarness harness = new GatewayHarness(vertx, services, gateway, nodeId);
    harness.metrics = metrics;
    return harness;
  }

  /** The node's metrics registry, as /metrics would show it. */
  PrometheusMeterRegistry metrics;

  int port() {
    return gateway.tcpPort();
  }

  @Override
  public void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
  }
}
