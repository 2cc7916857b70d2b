package chat.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import chat.protocol.bus.Addresses;
import io.vertx.core.eventbus.DeliveryContext;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The node's bound on token logins in progress (CHAT_LOGINS_IN_FLIGHT): beyond it a LOGIN
 * waits for its turn without starting any work; beyond the waiting room it is answered 503
 * with retry_after_ms at once, not after the request timeout; once room is made, it comes in.
 */
@Timeout(60)
class LoginAdmissionTest {

  private static JsonObject tokenLogin(int userId) {
    return new JsonObject().put("msgid", 1).put("id", userId).put("token", "t" + userId);
  }

  @Test
  void tokenLoginsBeyondTheBoundWaitTheirTurnAndBeyondTheQueueAreRefusedAtOnce() throws Exception {
    try (GatewayHarness harness = GatewayHarness.start(new JsonObject()
        .put("loginsInFlight", 1).put("requestTimeoutMs", 5000L))) {
      // presence holds every connect until released: the first login stays in progress
      List<DeliveryContext<?>> held = new CopyOnWriteArrayList<>();
      AtomicBoolean holding = new AtomicBoolean(true);
      harness.vertx.eventBus().addOutboundInterceptor(ctx -> {
        if (holding.get() && Addresses.PRESENCE_CONNECT.equals(ctx.message().address())) {
          held.add(ctx);
          return;
        }
        ctx.next();
      });
      int waitingMax = 8; // AccountHandler.WAITING_PER_LOGIN_IN_FLIGHT per login in flight
      List<TestClient> clients = new ArrayList<>();
      List<Integer> users = new ArrayList<>();
      try {
        for (int i = 0; i < waitingMax + 2; i++) {
          clients.add(TestClient.connect(harness.port()));
          users.add(harness.services.user("u" + i));
        }
        clients.get(0).send(tokenLogin(users.get(0)));
        Eventually.holds("one login in progress", 5000, () -> held.size() == 1);
        for (int i = 1; i <= waitingMax; i++) {
          clients.get(i).send(tokenLogin(users.get(i)));
        }
        TestClient last = clients.get(waitingMax + 1);
        long sent = System.nanoTime();
        last.send(tokenLogin(users.get(waitingMax + 1)));
        JsonObject refused = last.expect(104);
        long tookMs = (System.nanoTime() - sent) / 1_000_000;
        assertEquals(503, refused.getInteger("errno"), refused.encode());
        assertTrue(refused.getLong("retry_after_ms", 0L) > 0, refused.encode());
        assertTrue(tookMs < 1_000, "refused at once, not after the timeout: " + tookMs + " ms");
        assertEquals(1, held.size(), "the waiting logins did not start");

        holding.set(false);
        held.forEach(ctx -> harness.vertx.runOnContext(v -> ctx.next()));
        for (int i = 0; i <= waitingMax; i++) {
          assertEquals(0, clients.get(i).expect(2).getInteger("errno"), "login " + i);
        }
        last.send(tokenLogin(users.get(waitingMax + 1)));
        assertEquals(0, last.expect(2).getInteger("errno"), "admitted once there is room");
      } finally {
        clients.forEach(TestClient::close);
      }
    }
  }
}
