package chat.presence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import chat.protocol.bus.FailureCodes;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Every presence request is answered, also when its handler throws before any work. */
@Timeout(30)
class PresenceAnswersTest {

  private static Vertx vertx;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void stop() {
    vertx.close().await();
  }

  @Test
  void aHandlerThatThrowsIsAnsweredAtOnceAsUnavailable() {
    vertx.eventBus().consumer("presence.test.throws", PresenceVerticle.answered(msg -> {
      // what an online map whose member is shutting down does to an operation
      throw new IllegalStateException("Hazelcast instance is not active!");
    })).completion().await();
    ReplyException reply = failureOf("presence.test.throws", new JsonObject());
    assertEquals(ReplyFailure.RECIPIENT_FAILURE, reply.failureType());
    assertEquals(FailureCodes.SERVICE_UNAVAILABLE, reply.failureCode());
  }

  @Test
  void aBodyThatIsNoObjectIsAnsweredAsInvalidInput() {
    vertx.eventBus().consumer("presence.test.cast", PresenceVerticle.answered(msg -> {
      JsonObject body = (JsonObject) msg.body();
      body.size();
    })).completion().await();
    ReplyException reply = failureOf("presence.test.cast", "not an object");
    assertEquals(FailureCodes.INVALID_INPUT, reply.failureCode());
  }

  /** How a request failed (it must fail; an unanswered one times out after 5 s). */
  private static ReplyException failureOf(String address, Object body) {
    // far shorter than the gateway's request timeout: an unanswered request would time out
    Throwable err = vertx.eventBus().request(address, body,
            new DeliveryOptions().setSendTimeout(5_000))
        .map(reply -> (Throwable) null)
        .recover(e -> io.vertx.core.Future.succeededFuture(e))
        .await();
    return assertInstanceOf(ReplyException.class, err);
  }
}
