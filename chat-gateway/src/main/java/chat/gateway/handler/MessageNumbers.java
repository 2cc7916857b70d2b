package chat.gateway.handler;

import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code msgno} values unique across the cluster: this node's id (new at every start)
 * followed by a counter.
 */
public final class MessageNumbers {

  private final String prefix;
  private final AtomicLong counter = new AtomicLong();

  public MessageNumbers(String nodeId) {
    String compact = nodeId.replace("-", "");
    this.prefix = compact.substring(0, Math.min(16, compact.length())) + "-";
  }

  public String next() {
    return prefix + Long.toString(counter.incrementAndGet(), 36);
  }
}
