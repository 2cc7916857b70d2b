package chat.presence.reaper;

import chat.presence.metrics.PresenceMetrics;
import chat.presence.mirror.StateMirror;
import chat.presence.store.Outcomes.Aligned;
import chat.presence.store.PresenceStore.Row;
import chat.presence.store.PresenceStore;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Map → database anti-entropy, run by one elected member. Both directions, in bounded
 * batches read by primary key:
 * <ul>
 *   <li>rows shown {@code online} (read {@value #BATCH} at a time in id order): each one
 *   whose user has no live session in the map is written offline;</li>
 *   <li>users with a live session (from the gateways' latest digests): each whose row is not
 *   {@code online} is written online.</li>
 * </ul>
 * Each row is compared with the map entry in one atomic step ({@link PresenceStore#align}),
 * which gives the write a version above both the entry's and the row's, so it lands and
 * cannot undo a newer transition. A write counts only if the UPDATE changed the row.
 */
public final class DbReconciler {

  private static final Logger LOG = LoggerFactory.getLogger(DbReconciler.class);
  static final int BATCH = 500;

  /** What one pass found and wrote. */
  public record Result(int checked, int wrong, int written) {

    Result plus(Result other) {
      return new Result(checked + other.checked, wrong + other.wrong, written + other.written);
    }
  }

  private final PresenceStore store;
  private final StateMirror mirror;

  public DbReconciler(PresenceStore store, StateMirror mirror) {
    this.store = store;
    this.mirror = mirror;
  }

  /** One full pass: every online row, then every user the digests show live. */
  public Future<Result> pass(Set<Integer> liveUsers) {
    return pass(liveUsers, true);
  }

  /**
   * One pass: every user the digests show live, after every online row when
   * {@code onlineRows}. Without them it costs one read by primary key per {@value #BATCH}
   * live users and an entry processor only for those whose row is not {@code online}: the
   * pass that runs while a node-loss sweep is still taking thousands of users offline.
   */
  public Future<Result> pass(Set<Integer> liveUsers, boolean onlineRows) {
    // The live users whose row this pass just read online and left online are not read
    // again: at 19,000 idle sessions, reading them was 38 reads by primary key every round.
    Map<Integer, Row> online = new HashMap<>();
    Set<Integer> rewritten = new HashSet<>();
    Future<Result> rows = onlineRows ? onlineRowsAfter(0, online, rewritten)
        : Future.succeededFuture(new Result(0, 0, 0));
    return rows
        .compose(first -> {
          List<Integer> unread = new ArrayList<>(liveUsers.size());
          for (int id : liveUsers) {
            if (!online.containsKey(id) || rewritten.contains(id)) {
              unread.add(id);
            }
          }
          return liveUsers(unread, 0, first);
        })
        .onSuccess(result -> {
          PresenceMetrics.current().repaired("db_row", result.written());
          if (result.wrong() > 0) {
            LOG.warn("database reconciliation: {} of {} rows checked differed from the map, {} rewritten",
                result.wrong(), result.checked(), result.written());
          }
        });
  }

  /**
   * Reads the online rows a page of {@value #BATCH} at a time in id order, and aligns them all
   * at once: the map is then asked once per partition for the whole pass, not once per
   * partition for every page (an idle node of 19,000 users read 38 pages a round). The rows
   * read are left in {@code sofar}, the ids of those it wrote in {@code rewritten}.
   */
  private Future<Result> onlineRowsAfter(int afterId, Map<Integer, Row> sofar,
                                         Set<Integer> rewritten) {
    return mirror.onlineAfter(afterId, BATCH).compose(rows -> {
      sofar.putAll(rows);
      if (rows.size() < BATCH) {
        return alignAndWrite(sofar, rewritten::addAll);
      }
      int last = rows.keySet().stream().mapToInt(Integer::intValue).max().orElse(afterId);
      return onlineRowsAfter(last, sofar, rewritten);
    });
  }

  private Future<Result> liveUsers(List<Integer> ids, int from, Result sofar) {
    if (from >= ids.size()) {
      return Future.succeededFuture(sofar);
    }
    Set<Integer> batch = Set.copyOf(ids.subList(from, Math.min(ids.size(), from + BATCH)));
    return mirror.rows(batch).compose(rows -> {
      Map<Integer, Row> notOnline = new HashMap<>();
      rows.forEach((id, row) -> {
        if (!row.online()) {
          notOnline.put(id, row);
        }
      });
      return alignAndWrite(notOnline, written -> { })
          .map(r -> new Result(batch.size(), r.wrong(), r.written()));
    }).compose(result -> liveUsers(ids, from + BATCH, sofar.plus(result)));
  }

  /** Aligns the rows with the map and writes those that differ; {@code told} is given which. */
  private Future<Result> alignAndWrite(Map<Integer, Row> rows, Consumer<Set<Integer>> told) {
    if (rows.isEmpty()) {
      told.accept(Set.of());
      return Future.succeededFuture(new Result(0, 0, 0));
    }
    return store.align(rows).compose(writes -> {
      told.accept(writes.keySet());
      List<Future<Boolean>> landed = new ArrayList<>();
      writes.forEach((userId, aligned) -> landed.add(write(userId, aligned)));
      return Future.all(landed).map(all -> {
        int written = 0;
        for (int i = 0; i < all.size(); i++) {
          if (Boolean.TRUE.equals(all.resultAt(i))) {
            written++;
          }
        }
        return new Result(rows.size(), writes.size(), written);
      });
    });
  }

  private Future<Boolean> write(int userId, Aligned aligned) {
    LOG.info("user {} is {} in the map but not in the database: row set {} (v {})", userId,
        aligned.online() ? "online" : "offline", aligned.online() ? "online" : "offline",
        aligned.version());
    return mirror.write(userId, aligned.online(), aligned.version());
  }
}
