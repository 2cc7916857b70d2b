package chat.user;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vertx.core.Vertx;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;

/** Blocking request/reply over the event bus, for test threads (never an event loop). */
final class BusClient {

  private final EventBus bus;

  BusClient(Vertx vertx) {
    this.bus = vertx.eventBus();
  }

  /** The reply body; throws the {@link ReplyException} when the request fails. */
  JsonObject request(String address, Object body) {
    return bus.<JsonObject>request(address, body).await().body();
  }

  /** The failure of a request that must fail. */
  ReplyException failure(String address, Object body) {
    try {
      JsonObject reply = request(address, body);
      throw new AssertionError(address + " should have failed but replied " + reply);
    } catch (ReplyException e) {
      assertEquals(ReplyFailure.RECIPIENT_FAILURE, e.failureType(), e::toString);
      return e;
    }
  }

  /** Asserts that the request fails with that code; the failure text. */
  String assertFails(int code, String address, Object body) {
    ReplyException e = failure(address, body);
    assertEquals(code, e.failureCode(), () -> address + " failed with " + e.failureCode() + " "
        + e.getMessage() + " instead of " + code);
    return e.getMessage();
  }
}
