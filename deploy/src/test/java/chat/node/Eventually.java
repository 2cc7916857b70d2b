package chat.node;

import java.time.Duration;

/** Retries an assertion until it holds or the time is up (no fixed sleeps in tests). */
final class Eventually {

  private Eventually() {
  }

  /** Runs the assertion until it passes; fails with its last error after {@code within}. */
  static Duration within(Duration within, Runnable assertion) {
    long start = System.nanoTime();
    long deadline = start + within.toNanos();
    while (true) {
      try {
        assertion.run();
        return Duration.ofNanos(System.nanoTime() - start);
      } catch (AssertionError | RuntimeException e) {
        if (System.nanoTime() > deadline) {
          throw e;
        }
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
  }
}
