package chat.presence.notify;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * At most {@code limit} calls in flight at once; the others wait in arrival order and start
 * as earlier ones complete. A node loss turns thousands of sessions into transitions at once:
 * started all together, their friend lookups would queue in the user service past their own
 * timeouts (and starve the logins of the users coming back); started a bounded number at a
 * time, each is answered. Safe to use from several event loops.
 */
final class InFlightLimit {

  private final int limit;
  private final AtomicInteger running = new AtomicInteger();
  private final Queue<Runnable> waiting = new ConcurrentLinkedQueue<>();

  InFlightLimit(int limit) {
    this.limit = limit;
  }

  /** Runs {@code call} when a place is free; the result is the call's. */
  <T> Future<T> submit(Supplier<Future<T>> call) {
    Promise<T> result = Promise.promise();
    waiting.add(() -> {
      Future<T> started;
      try {
        started = call.get();
      } catch (RuntimeException e) {
        started = Future.failedFuture(e);
      }
      started.onComplete(done -> {
        running.decrementAndGet();
        startWaiting();
        result.handle(done);
      });
    });
    startWaiting();
    return result.future();
  }

  /** Calls waiting for a place (for logs and tests). */
  int waiting() {
    return waiting.size();
  }

  private void startWaiting() {
    while (!waiting.isEmpty()) {
      int now = running.get();
      if (now >= limit) {
        return;
      }
      if (running.compareAndSet(now, now + 1)) {
        Runnable next = waiting.poll();
        if (next == null) {
          running.decrementAndGet();
        } else {
          next.run();
        }
      }
    }
  }
}
