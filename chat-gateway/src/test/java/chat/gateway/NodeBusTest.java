package chat.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import chat.protocol.bus.Addresses;
import chat.protocol.bus.FailureCodes;
import chat.protocol.bus.gateway.DeliverBatch;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * This node's bus addresses read their bodies as the gateway records: a body that does not
 * fit is refused at once with INVALID_INPUT (it used to throw inside the handler and leave its
 * sender to time out), and one that fits is served as before.
 */
@Timeout(30)
class NodeBusTest {

  private GatewayHarness harness;

  @BeforeEach
  void start() throws Exception {
    harness = GatewayHarness.start(new JsonObject());
  }

  @AfterEach
  void stop() throws Exception {
    harness.close();
  }

  @Test
  void aBodyThatDoesNotFitIsRefusedAtOnceWithInvalidInput() {
    String node = harness.nodeId;
    JsonObject payload = new JsonObject().put("msgid", 108).put("msg", "hi");
    List<Object[]> bad = List.of(
        new Object[] {Addresses.gatewayDeliver(node), new JsonObject().put("userId", "7")
            .put("payload", payload)},
        new Object[] {Addresses.gatewayDeliver(node), new JsonObject().put("userId", 7)},
        new Object[] {Addresses.gatewayDeliver(node), new JsonObject().put("userId", 7)
            .put("payload", payload).put("sessionId", 12)},
        new Object[] {Addresses.gatewayDeliverBatch(node), new JsonObject().put("deadline", 1L)
            .put("items", new JsonArray())},
        new Object[] {Addresses.gatewayDeliverBatch(node), new JsonObject().put("items",
            new JsonArray().add(new JsonObject().put("userId", 7).put("sessionId", "s")
                .put("payload", payload)))},
        new Object[] {Addresses.gatewayDeliverBatch(node), new JsonObject().put("deadline", 1L)
            .put("items", new JsonArray().add(new JsonObject().put("userId", 7)
                .put("payload", payload)))},
        new Object[] {Addresses.gatewayDeliverBatch(node), new JsonObject().put("deadline", 1L)
            .put("items", new JsonArray().add("not an object"))},
        new Object[] {Addresses.gatewayKick(node), new JsonObject().put("userId", 7)},
        new Object[] {Addresses.gatewayOfflineCheck(node), new JsonObject().put("userId", 0)},
        new Object[] {Addresses.gatewayKick(node), "not an object"},
        new Object[] {Addresses.gatewayDeliverBatch(node), Buffer.buffer("not a batch")},
        new Object[] {Addresses.gatewayDeliverBatch(node), "not a batch"},
        new Object[] {Addresses.gatewayDeliverBatch(node), new DeliverBatch(1L, List.of(
            new DeliverBatch.Item(7, "s", 6, "n-1", "{}"))).toBuffer().appendByte((byte) 0)});
    DeliveryOptions quick = new DeliveryOptions().setSendTimeout(2000);
    for (Object[] request : bad) {
      ReplyException refused = assertThrows(ReplyException.class, () -> harness.vertx.eventBus()
          .request((String) request[0], request[1], quick).await());
      assertEquals(FailureCodes.INVALID_INPUT, refused.failureCode(),
          request[0] + " " + request[1] + ": " + refused.getMessage());
    }
  }

  @Test
  void aBroadcastThatDoesNotFitIsDroppedAndTheNextOneArrives() {
    int bob = harness.services.user("bob");
    try (TestClient client = TestClient.connect(harness.port())) {
      client.login(bob);
      harness.vertx.eventBus().publish(Addresses.GATEWAY_BROADCAST,
          new JsonObject().put("payload", "not a message"));
      harness.vertx.eventBus().publish(Addresses.GATEWAY_BROADCAST,
          new JsonObject().put("payload", new JsonObject().put("msgid", 108).put("msg", "hi")));
      assertEquals("hi", client.expect(108).getString("msg"));
    }
  }
}
