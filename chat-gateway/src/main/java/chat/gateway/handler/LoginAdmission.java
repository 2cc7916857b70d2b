package chat.gateway.handler;

import chat.gateway.bus.ServiceClient;
import chat.protocol.wire.ErrorCode;
import chat.protocol.wire.ProtocolException;
import io.vertx.core.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * Bounds the token logins one gateway node works on at once (CHAT_LOGINS_IN_FLIGHT). When a
 * node dies, every one of its clients comes back within seconds with its token; a login
 * beyond the bound is answered ERROR 503 with {@code retry_after_ms} at once, before any
 * work, instead of queueing behind the others until its requests time out (and leaving work
 * behind that nobody waits for). Password logins are bounded by the user service's hashing
 * queue instead, which refuses at once too.
 */
final class LoginAdmission {

  private final int limit;
  private final AtomicInteger inFlight = new AtomicInteger();

  LoginAdmission(int limit) {
    this.limit = limit;
  }

  /** Runs the login when there is room; else a 503 with a jittered {@code retry_after_ms}. */
  <T> Future<T> admit(Supplier<Future<T>> login) {
    if (inFlight.incrementAndGet() > limit) {
      inFlight.decrementAndGet();
      return Future.failedFuture(new ProtocolException(ErrorCode.UNAVAILABLE,
          "too many logins in progress: try again later", ServiceClient.retryAfterMs()));
    }
    Future<T> done;
    try {
      done = login.get();
    } catch (RuntimeException e) {
      inFlight.decrementAndGet();
      throw e;
    }
    return done.onComplete(ar -> inFlight.decrementAndGet());
  }

  /** Logins being worked on now. */
  int inFlight() {
    return inFlight.get();
  }
}
