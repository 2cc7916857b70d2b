package chat.user;

import io.vertx.core.Vertx;
import io.vertx.core.shareddata.LocalMap;
import io.vertx.core.shareddata.Shareable;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The node's own threads for password hashing, with admission: at most {@code threads} hashes
 * run and at most {@code queue} wait; a request beyond that is refused at once
 * ({@link #tryAdmit()} is false) before any work is done. Nothing else runs here, so token
 * logins, chats and logouts never wait behind password work, and password work never takes
 * Vert.x worker threads from anyone else.
 *
 * <p>One per Vert.x instance, shared by every {@link UserVerticle} instance of the node
 * ({@link #acquire}/{@link #release(Vertx)} count its users; the last one shuts it down, after
 * the work already admitted has finished).
 */
final class PasswordExecutor implements Shareable, Executor {

  private static final String MAP = "chat.user.password-executor";
  private static final String KEY = "executor";

  private final ThreadPoolExecutor pool;
  private final Semaphore admission;
  private final int capacity;
  private int users;

  private PasswordExecutor(int threads, int queue) {
    AtomicInteger counter = new AtomicInteger();
    ThreadFactory factory = task -> {
      Thread t = new Thread(task, "chat-password-" + counter.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
    // the queue itself is unbounded: admission keeps it at most `queue` long
    this.pool = new ThreadPoolExecutor(threads, threads, 60, TimeUnit.SECONDS,
        new LinkedBlockingQueue<>(), factory);
    this.pool.allowCoreThreadTimeOut(true);
    this.capacity = threads + queue;
    this.admission = new Semaphore(capacity);
  }

  /** The node's executor, created with these sizes by its first user. */
  static PasswordExecutor acquire(Vertx vertx, int threads, int queue) {
    LocalMap<String, PasswordExecutor> map = vertx.sharedData().getLocalMap(MAP);
    return map.compute(KEY, (key, existing) -> {
      PasswordExecutor executor =
          existing != null ? existing : new PasswordExecutor(threads, queue);
      executor.users++;
      return executor;
    });
  }

  /** One user less; the last one shuts the threads down once admitted work has run. */
  void release(Vertx vertx) {
    LocalMap<String, PasswordExecutor> map = vertx.sharedData().getLocalMap(MAP);
    map.computeIfPresent(KEY, (key, existing) -> {
      if (existing != this) {
        return existing;
      }
      if (--users > 0) {
        return this;
      }
      pool.shutdown();
      return null;
    });
  }

  /**
   * Takes one place for a password request; false (and nothing taken) when every thread is busy
   * and the queue is full. Each place taken is given back with {@link #done()}.
   */
  boolean tryAdmit() {
    return admission.tryAcquire();
  }

  /** Gives back the place taken by a successful {@link #tryAdmit()}. */
  void done() {
    admission.release();
  }

  /** Places taken now (running or waiting). */
  int admitted() {
    return capacity - admission.availablePermits();
  }

  @Override
  public void execute(Runnable task) {
    pool.execute(task);
  }
}
