package chat.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import chat.protocol.bus.Addresses;
import io.vertx.core.eventbus.DeliveryContext;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The node's bound on token logins in progress (CHAT_LOGINS_IN_FLIGHT): beyond it a LOGIN is
 * answered 503 with retry_after_ms at once, not after the request timeout; once room is made,
 * it comes in.
 */
@Timeout(60)
class LoginAdmissionTest {

  private static JsonObject tokenLogin(int userId) {
    return new JsonObject().put("msgid", 1).put("id", userId).put("token", "t" + userId);
  }

  @Test
  void aTokenLoginBeyondTheBoundIsRefusedAtOnceAndAdmittedWhenThereIsRoom() throws Exception {
    try (GatewayHarness harness = GatewayHarness.start(new JsonObject()
        .put("loginsInFlight", 2).put("requestTimeoutMs", 5000L))) {
      // presence holds every connect until released: the first two logins stay in progress
      List<DeliveryContext<?>> held = new CopyOnWriteArrayList<>();
      AtomicBoolean holding = new AtomicBoolean(true);
      harness.vertx.eventBus().addOutboundInterceptor(ctx -> {
        if (holding.get() && Addresses.PRESENCE_CONNECT.equals(ctx.message().address())) {
          held.add(ctx);
          return;
        }
        ctx.next();
      });
      int ann = harness.services.user("ann");
      int bob = harness.services.user("bob");
      int cid = harness.services.user("cid");
      try (TestClient a = TestClient.connect(harness.port());
           TestClient b = TestClient.connect(harness.port());
           TestClient c = TestClient.connect(harness.port())) {
        a.send(tokenLogin(ann));
        b.send(tokenLogin(bob));
        Eventually.holds("two logins in progress", 5000, () -> held.size() == 2);

        long sent = System.nanoTime();
        c.send(tokenLogin(cid));
        JsonObject refused = c.expect(104);
        long tookMs = (System.nanoTime() - sent) / 1_000_000;
        assertEquals(503, refused.getInteger("errno"), refused.encode());
        assertTrue(refused.getLong("retry_after_ms", 0L) > 0, refused.encode());
        assertTrue(tookMs < 1_000, "refused at once, not after the timeout: " + tookMs + " ms");

        holding.set(false);
        held.forEach(ctx -> harness.vertx.runOnContext(v -> ctx.next()));
        assertEquals(0, a.expect(2).getInteger("errno"));
        assertEquals(0, b.expect(2).getInteger("errno"));
        c.send(tokenLogin(cid));
        assertEquals(0, c.expect(2).getInteger("errno"), "admitted once there is room");
      }
    }
  }
}
