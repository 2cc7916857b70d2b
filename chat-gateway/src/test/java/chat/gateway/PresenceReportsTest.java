package chat.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import chat.protocol.bus.Addresses;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What the gateway tells presence so that presence can heal: the end of every session it sent
 * a connect for (also a login it gave up on), and digests of the sessions it holds.
 */
@Timeout(60)
class PresenceReportsTest {

  private GatewayHarness harness;
  private final List<JsonObject> connects = new CopyOnWriteArrayList<>();
  private final List<JsonObject> ends = new CopyOnWriteArrayList<>();
  private final List<JsonObject> digests = new CopyOnWriteArrayList<>();
  private volatile long connectDelayMs;

  @AfterEach
  void stop() throws Exception {
    if (harness != null) {
      harness.close();
    }
  }

  private void start() throws Exception {
    harness = GatewayHarness.start(new JsonObject().put("repairSeconds", 1));
    harness.vertx.eventBus().<JsonObject>consumer(Addresses.PRESENCE_NODE_DIGEST,
        msg -> digests.add(msg.body()));
    harness.vertx.eventBus().addOutboundInterceptor(ctx -> {
      String address = ctx.message().address();
      Object body = ctx.message().body();
      if (Addresses.PRESENCE_CONNECT.equals(address) && body instanceof JsonObject json) {
        connects.add(json);
        if (connectDelayMs > 0) {
          harness.vertx.setTimer(connectDelayMs, t -> ctx.next());
          return;
        }
      } else if (Addresses.PRESENCE_DISCONNECT.equals(address) && body instanceof JsonObject json) {
        ends.add(json);
      }
      ctx.next();
    });
  }

  private JsonObject latestDigestAfter(int seen) {
    Eventually.holds("a new digest", 3000, () -> digests.size() > seen);
    return digests.get(digests.size() - 1);
  }

  @Test
  void aDigestListsTheSessionsHeldAndSpeaksForEveryConnectNumberedBeforeIt() throws Exception {
    start();
    int bob = harness.services.user("bob");
    try (TestClient client = TestClient.connect(harness.port())) {
      client.login(bob);
      JsonObject connect = connects.get(0);
      JsonObject digest = latestDigestAfter(digests.size());
      assertEquals(harness.nodeId, digest.getString("nodeId"));
      assertTrue(digest.getLong("upTo") >= connect.getLong("seq"), digest.encode());
      JsonArray listed = digest.getJsonArray("sessions");
      assertEquals(1, listed.size(), digest.encode());
      assertEquals(bob, listed.getJsonArray(0).getInteger(0));
      assertEquals(connect.getString("sessionId"), listed.getJsonArray(0).getString(1));
      assertEquals(true, listed.getJsonArray(0).getBoolean(3), "logged in");

      client.send(new JsonObject().put("msgid", 3).put("seq", 1));
      Eventually.holds("the end reported", 3000, () -> ends.size() == 1);
      JsonObject after = latestDigestAfter(digests.size());
      assertTrue(after.getJsonArray("sessions").isEmpty(), after.encode());
    }
  }

  @Test
  void aLoginWhoseConnectTimedOutStillReportsTheSessionsEnd() throws Exception {
    start();
    int bob = harness.services.user("bob");
    connectDelayMs = 3_000;
    try (TestClient client = TestClient.connect(harness.port())) {
      client.send(new JsonObject().put("msgid", 1).put("id", bob).put("password", "pw"));
      // The gateway gives up after its request timeout (2 s) and answers with an error.
      client.expect(104);
      Eventually.holds("the end reported", 5000, () -> ends.size() == 1);
      assertEquals(connects.get(0).getString("sessionId"), ends.get(0).getString("sessionId"));
      assertEquals(bob, ends.get(0).getInteger("userId"));
    }
  }
}
