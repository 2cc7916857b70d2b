package chat.gateway.session;

/**
 * A token bucket: {@code ratePerSecond} tokens a second, holding at most twice that, so a
 * client may burst up to two seconds' worth. Used from the connection's event loop only.
 */
final class RateLimiter {

  private final double ratePerNano;
  private final double capacity;
  private double tokens;
  private long lastRefill;

  RateLimiter(int ratePerSecond) {
    this.ratePerNano = ratePerSecond / 1e9;
    this.capacity = 2.0 * ratePerSecond;
    this.tokens = capacity;
    this.lastRefill = System.nanoTime();
  }

  /** Takes one token; false when the client is over its rate. */
  boolean tryAcquire() {
    long now = System.nanoTime();
    tokens = Math.min(capacity, tokens + (now - lastRefill) * ratePerNano);
    lastRefill = now;
    if (tokens >= 1) {
      tokens -= 1;
      return true;
    }
    return false;
  }
}
