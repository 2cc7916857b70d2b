package chat.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;

import chat.protocol.wire.MsgId;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The counters a connection, a login and a disconnect move are looked up once and kept: each
 * tag value still counts in its own series of the registry.
 */
class GatewayMetricsTest {

  private final Vertx vertx = Vertx.vertx();
  private final MeterRegistry registry = new SimpleMeterRegistry();
  private final GatewayMetrics metrics = GatewayMetrics.create(vertx, registry, () -> 0, () -> 0);

  @AfterEach
  void close() {
    GatewayMetrics.remove(vertx);
    vertx.close().await();
  }

  @Test
  void eachTagValueCountsInItsOwnSeriesAtEveryCall() {
    for (int i = 0; i < 3; i++) {
      metrics.opened("tcp");
      metrics.closed("tcp", CloseReason.CLIENT_CLOSED);
      metrics.received(new JsonObject().put("msgid", MsgId.LOGIN).put("token", "t"));
      metrics.sent(new JsonObject().put("msgid", MsgId.LOGIN_ACK).put("errno", 0));
    }
    metrics.opened("ws");
    metrics.closed("tcp", CloseReason.KICKED);
    metrics.closed("ws", CloseReason.CLIENT_CLOSED);
    metrics.received(new JsonObject().put("msgid", MsgId.LOGIN).put("password", "p"));
    metrics.sent(new JsonObject().put("msgid", MsgId.LOGIN_ACK).put("errno", 1));

    assertEquals(3, count("chat_connections_opened", "transport", "tcp"));
    assertEquals(1, count("chat_connections_opened", "transport", "ws"));
    assertEquals(3, count("chat_disconnects", "transport", "tcp", "reason", "client_closed"));
    assertEquals(1, count("chat_disconnects", "transport", "tcp", "reason", "kicked"));
    assertEquals(1, count("chat_disconnects", "transport", "ws", "reason", "client_closed"));
    assertEquals(1, count("chat_login_conflicts", "outcome", "kicked"));
    assertEquals(3, count("chat_login_attempts", "method", "token"));
    assertEquals(1, count("chat_login_attempts", "method", "password"));
    assertEquals(3, count("chat_logins", "result", "ok"));
    assertEquals(1, count("chat_logins", "result", "bad_credentials"));
  }

  private double count(String name, String... tags) {
    return registry.get(name).tags(tags).counter().count();
  }
}
