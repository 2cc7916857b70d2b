package chat.gateway.session;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Ids unique across the cluster (connection ids, message numbers): a short form of this
 * node's id, which is new at every start, followed by a counter.
 */
public final class UniqueIds {

  private final String prefix;
  private final AtomicLong counter = new AtomicLong();

  public UniqueIds(String nodeId, char separator) {
    String compact = nodeId.replace("-", "");
    this.prefix = compact.substring(0, Math.min(16, compact.length())) + separator;
  }

  public String next() {
    return prefix + Long.toString(counter.incrementAndGet(), 36);
  }
}
