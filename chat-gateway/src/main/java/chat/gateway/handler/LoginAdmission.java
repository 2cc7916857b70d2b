package chat.gateway.handler;

import chat.gateway.bus.ServiceClient;
import chat.protocol.wire.ErrorCode;
import chat.protocol.wire.ProtocolException;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.ArrayDeque;
import java.util.Queue;
import java.util.function.Supplier;

/**
 * Bounds the token logins one gateway node works on at once (CHAT_LOGINS_IN_FLIGHT). When a
 * node dies, every one of its clients comes back within seconds with its token. Started all
 * at once, their requests queue in the services until they time out (ERROR 503 after the
 * request timeout, with the work still done for nobody). Instead:
 * <ul>
 *   <li>up to {@code limit} logins run at once;</li>
 *   <li>up to {@code maxWaiting} more wait here, in arrival order, and start as earlier ones
 *   finish, each on its own session's context; one that waited longer than
 *   {@code maxWaitMs} is answered 503 without any work;</li>
 *   <li>beyond that a login is answered ERROR 503 at once, before any work, with a
 *   {@code retry_after_ms} of about how long the logins waiting here take to drain at the
 *   rate logins finish now (plus jitter), so the clients spread themselves out.</li>
 * </ul>
 * Password logins are bounded by the user service's hashing queue instead, which refuses at
 * once too. Safe to use from several event loops.
 */
final class LoginAdmission {

  /** The longest {@code retry_after_ms} given for a full queue. */
  static final long MAX_RETRY_AFTER_MS = 10_000;

  private record Waiting(Context context, Runnable start, Promise<?> result, long sinceNanos) {
  }

  private final int limit;
  private final int maxWaiting;
  private final long maxWaitNanos;
  private final Queue<Waiting> waiting = new ArrayDeque<>();
  private int running;
  /** Logins finished in the current window, and the rate of the last full one (per second). */
  private int finishedInWindow;
  private long windowStartNanos = System.nanoTime();
  private double finishedPerSecond;

  LoginAdmission(int limit, int maxWaiting, long maxWaitMs) {
    this.limit = limit;
    this.maxWaiting = maxWaiting;
    this.maxWaitNanos = maxWaitMs * 1_000_000;
  }

  /**
   * Runs the login now, later, or not at all (503 with {@code retry_after_ms}); the result is
   * the login's.
   */
  <T> Future<T> admit(Supplier<Future<T>> login) {
    Promise<T> result = Promise.promise();
    Context context = Vertx.currentContext();
    Runnable start = () -> run(login, result);
    long retryAfterMs;
    synchronized (this) {
      if (running < limit) {
        running++;
        retryAfterMs = -1;
      } else if (waiting.size() < maxWaiting) {
        waiting.add(new Waiting(context, start, result, System.nanoTime()));
        return result.future();
      } else {
        retryAfterMs = drainMs() + ServiceClient.retryAfterMs();
      }
    }
    if (retryAfterMs >= 0) {
      return Future.failedFuture(busy(retryAfterMs));
    }
    start.run();
    return result.future();
  }

  private <T> void run(Supplier<Future<T>> login, Promise<T> result) {
    Future<T> done;
    try {
      done = login.get();
    } catch (RuntimeException e) {
      done = Future.failedFuture(e);
    }
    done.onComplete(ar -> {
      finished();
      result.handle(ar);
    });
  }

  /** One login finished: the oldest waiting one that has not waited too long starts. */
  private void finished() {
    Waiting next;
    synchronized (this) {
      countFinished();
      running--;
      long now = System.nanoTime();
      while ((next = waiting.poll()) != null && now - next.sinceNanos() > maxWaitNanos) {
        Waiting late = next;
        onContext(late.context(), () -> late.result().tryFail(busy(ServiceClient.retryAfterMs())));
      }
      if (next != null) {
        running++;
      }
    }
    if (next != null) {
      onContext(next.context(), next.start());
    }
  }

  /** Runs on the login's own context (its session's), or here when it had none. */
  private static void onContext(Context context, Runnable action) {
    if (context == null) {
      action.run();
    } else {
      context.runOnContext(v -> action.run());
    }
  }

  private void countFinished() {
    finishedInWindow++;
    long now = System.nanoTime();
    long elapsed = now - windowStartNanos;
    if (elapsed >= 1_000_000_000L) {
      finishedPerSecond = finishedInWindow * 1e9 / elapsed;
      finishedInWindow = 0;
      windowStartNanos = now;
    }
  }

  /** About how long the logins waiting now take to drain at the current rate. */
  private long drainMs() {
    double rate = Math.max(finishedPerSecond, limit);
    return Math.min(MAX_RETRY_AFTER_MS, (long) (waiting.size() * 1000 / rate));
  }

  private static ProtocolException busy(long retryAfterMs) {
    return new ProtocolException(ErrorCode.UNAVAILABLE,
        "too many logins in progress: try again later", retryAfterMs);
  }

  /** Logins being worked on now, and waiting. */
  synchronized int inFlight() {
    return running;
  }

  synchronized int waiting() {
    return waiting.size();
  }
}
