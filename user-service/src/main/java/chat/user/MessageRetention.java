package chat.user;

import chat.user.repo.MessageStore;
import io.vertx.core.Future;
import java.time.Clock;
import java.time.Duration;

/**
 * Deletes messages older than {@code CHAT_HISTORY_DAYS} from the log, in batches along the
 * primary key up to where the expired messages end (found by a binary search over it: the log
 * has no index on its creation time, which every chat would pay for), never a table-wide scan,
 * never a long lock. A message some user has not received yet (a pending mailbox row) is kept
 * whatever its age. An expired message written by a node whose clock was behind, among
 * messages of a node whose clock was ahead, may stay until a later run (history no longer
 * shows it either way). Idempotent: any number of nodes may run it at any time.
 */
final class MessageRetention {

  /** Rows deleted per statement. */
  static final int BATCH = 1_000;
  /** Batches per run at most; what is left goes at the next run. */
  static final int MAX_BATCHES = 1_000;

  private final MessageStore store;
  private final Clock clock;
  private final Duration keep;

  MessageRetention(MessageStore store, Clock clock, int historyDays) {
    this.store = store;
    this.clock = clock;
    this.keep = Duration.ofDays(historyDays);
  }

  /** The oldest creation time (epoch millis) history still shows. */
  static long windowStart(Clock clock, int historyDays) {
    return clock.millis() - Duration.ofDays(historyDays).toMillis();
  }

  /** One run: deletes every expired message nobody waits for; how many went. */
  Future<Integer> runOnce() {
    long cutoff = clock.millis() - keep.toMillis();
    return store.expiredBelow(cutoff).compose(below -> batches(below, cutoff, 0, 0));
  }

  private Future<Integer> batches(long below, long cutoff, int done, int total) {
    return store.deleteExpired(below, cutoff, BATCH).compose(deleted -> {
      int sum = total + deleted;
      if (deleted < BATCH || done + 1 >= MAX_BATCHES) {
        return Future.succeededFuture(sum);
      }
      return batches(below, cutoff, done + 1, sum);
    });
  }
}
