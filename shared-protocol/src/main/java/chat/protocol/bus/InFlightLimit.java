package chat.protocol.bus;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * At most {@code limit} calls to another part of the cluster in flight at once; the others
 * wait in arrival order and start as earlier ones complete. For calls that come in bursts
 * and would otherwise queue past their own timeouts at the other end: presence's friend
 * lookups after a node loss, the gateway's writes of failed logins to the cluster map. Safe
 * to use from several event loops.
 */
public final class InFlightLimit {

  private final int limit;
  private final AtomicInteger running = new AtomicInteger();
  private final Queue<Runnable> waiting = new ConcurrentLinkedQueue<>();

  public InFlightLimit(int limit) {
    this.limit = limit;
  }

  /** Runs {@code call} when a place is free; the result is the call's. */
  public <T> Future<T> submit(Supplier<Future<T>> call) {
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

  /** Calls waiting for a place. */
  public int waiting() {
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
