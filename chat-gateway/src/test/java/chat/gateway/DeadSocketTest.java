package chat.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import chat.gateway.session.Session;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A chat written to a client that had already closed its connection is not lost. The client's
 * FIN waits unread while the recipient's event loop stands still (a node paused by the
 * machine, a long GC); the delivery queued meanwhile is written first, into a dead socket,
 * and the sender is told it was delivered. A client that acknowledges stored messages gets
 * the chats written in the last moment before its close again at its next login (the same
 * msgno, which it drops if it has it).
 */
class DeadSocketTest {

  private GatewayHarness harness;

  @AfterEach
  void stop() throws Exception {
    if (harness != null) {
      harness.close();
    }
  }

  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void aChatWrittenAfterTheClientClosedIsStoredForItsNextLogin(boolean nativeTransport)
      throws Exception {
    harness = GatewayHarness.start(new JsonObject().put("rateLimitPerSecond", 100_000),
        nativeTransport);
    FakeServices services = harness.services;
    int alice = services.user("alice");
    int bob = services.user("bob");
    try (TestClient reader = TestClient.connect(harness.port())) {
      reader.login(bob, new JsonObject().put("offline", "ack"));
      Session bobs = harness.gateway.sessions().sessionsOf(bob).get(0);

      CountDownLatch standing = new CountDownLatch(1);
      CountDownLatch resume = new CountDownLatch(1);
      bobs.context().runOnContext(v -> {
        standing.countDown();
        try {
          resume.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
      assertTrue(standing.await(5, TimeUnit.SECONDS));
      // Bob has read everything and leaves: his FIN waits, unread, at the standing loop.
      reader.close();
      // A chat from a sender on another node arrives meanwhile (as the event bus hands it
      // over, from another thread): its delivery is queued behind the standing loop.
      JsonObject chat = new JsonObject().put("msgid", 6).put("id", alice).put("name", "alice")
          .put("toid", bob).put("msg", "into the void").put("msgno", "m-dead-1")
          .put("time", "2026-12-01 00:00:00");
      io.vertx.core.Future<Boolean> accepted = bobs.deliver(bobs.sessionId(), chat);
      Thread.sleep(200);
      resume.countDown();

      assertEquals(Boolean.TRUE, accepted.toCompletionStage().toCompletableFuture()
          .get(5, TimeUnit.SECONDS), "the chat was accepted for bob's socket");
      Eventually.holds("bob's session ended", 5_000, () -> services.sessionsOf(bob).isEmpty());
      Eventually.holds("the chat stored for bob's next login", 5_000,
          () -> services.mailbox(bob).stream()
              .anyMatch(m -> "into the void".equals(m.getString("msg"))));
    }
  }
}
