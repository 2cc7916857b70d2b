package chat.presence.mirror;

import chat.presence.store.PresenceStore;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Mirrors the online map into {@code user.state}. Each write carries the version of the
 * transition it reports and only lands when it is newer than what the row holds, so writes
 * may arrive in any order, be retried, or race another node's write, and the row still ends
 * at the latest transition. While the database is unreachable the newest pending state of
 * each user is kept and retried with backoff; nothing blocks the event loop.
 *
 * <p>Used from one verticle's context only.
 */
public final class StateMirror {

  private static final Logger LOG = LoggerFactory.getLogger(StateMirror.class);
  private static final String UPDATE_STATE =
      "UPDATE user SET state = ?, state_version = ? WHERE id = ? AND state_version < ?";
  private static final String SELECT_ONLINE =
      "SELECT id, state_version FROM user WHERE state = 'online' AND id > ? ORDER BY id LIMIT ?";
  private static final long FIRST_RETRY_MS = 100;
  private static final long MAX_RETRY_MS = 5_000;

  /** The newest state not yet written for one user, and who waits for it. */
  private record Pending(boolean online, long version, List<Promise<Boolean>> waiters) {

    Pending newest(Pending other) {
      Pending newer = other.version() > version ? other : this;
      List<Promise<Boolean>> all = new ArrayList<>(waiters);
      all.addAll(other.waiters());
      return new Pending(newer.online(), newer.version(), all);
    }
  }

  private final Vertx vertx;
  private final Pool pool;
  private final Map<Integer, Pending> pending = new HashMap<>();
  private final Set<Integer> inFlight = new HashSet<>();
  private long retryDelayMs = FIRST_RETRY_MS;
  private boolean retryScheduled;

  public StateMirror(Vertx vertx, Pool pool) {
    this.vertx = vertx;
    this.pool = pool;
  }

  /**
   * Records a transition; it reaches the database as soon as the database answers. The future
   * completes once this state, or a newer one, has been sent to the database: with true when
   * the UPDATE changed the row, false when it matched none (the row holds a newer version
   * already, or the user does not exist). Only true means "written".
   */
  public Future<Boolean> write(int userId, boolean online, long version) {
    Promise<Boolean> written = Promise.promise();
    pending.merge(userId, new Pending(online, version, List.of(written)), Pending::newest);
    flush(userId);
    return written.future();
  }

  /**
   * Up to {@code limit} users the database shows online, with their versions, in id order
   * after {@code afterId}: one bounded read along the primary key.
   */
  public Future<Map<Integer, PresenceStore.Row>> onlineAfter(int afterId, int limit) {
    return pool.preparedQuery(SELECT_ONLINE).execute(Tuple.of(afterId, limit))
        .map(rows -> {
          Map<Integer, PresenceStore.Row> online = new LinkedHashMap<>();
          for (Row row : rows) {
            online.put(row.getInteger(0), new PresenceStore.Row(true, row.getLong(1)));
          }
          return online;
        });
  }

  /** The presence columns of the given users (read by primary key); missing users are absent. */
  public Future<Map<Integer, PresenceStore.Row>> rows(Set<Integer> userIds) {
    if (userIds.isEmpty()) {
      return Future.succeededFuture(Map.of());
    }
    List<Integer> ids = List.copyOf(userIds);
    String marks = String.join(",", java.util.Collections.nCopies(ids.size(), "?"));
    return pool.preparedQuery("SELECT id, state, state_version FROM user WHERE id IN (" + marks + ")")
        .execute(Tuple.from(ids))
        .map(rows -> {
          Map<Integer, PresenceStore.Row> found = new HashMap<>();
          for (Row row : rows) {
            found.put(row.getInteger(0),
                new PresenceStore.Row("online".equals(row.getString(1)), row.getLong(2)));
          }
          return found;
        });
  }

  /** The database versions of the given users: where their counters start (see VersionSeeds). */
  public Future<Map<Integer, Long>> versions(Set<Integer> userIds) {
    return rows(userIds).map(found -> {
      Map<Integer, Long> versions = new HashMap<>();
      found.forEach((id, row) -> versions.put(id, row.version()));
      return versions;
    });
  }

  /** How many users have a write not yet answered by the database. */
  public int backlog() {
    return pending.size() + inFlight.size();
  }

  /** How long a stopping service waits for its writes before it closes its pool. */
  public static final long SETTLE_AT_STOP_MS = 2_000;

  /**
   * Completes once no write is waiting for the database, or after {@code boundMs}: a service
   * that stops closes its pool only then, so a write just begun is not cut off.
   */
  public Future<Void> settled(long boundMs) {
    Promise<Void> done = Promise.promise();
    long deadline = System.nanoTime() + boundMs * 1_000_000;
    checkSettled(deadline, done);
    return done.future();
  }

  private void checkSettled(long deadlineNanos, Promise<Void> done) {
    if (backlog() == 0) {
      done.complete();
    } else if (System.nanoTime() > deadlineNanos) {
      LOG.warn("{} user.state writes still unanswered at stop; the database reconciliation"
          + " completes them", backlog());
      done.complete();
    } else {
      vertx.setTimer(20, t -> checkSettled(deadlineNanos, done));
    }
  }

  private void flush(int userId) {
    if (inFlight.contains(userId) || retryScheduled) {
      return;
    }
    Pending next = pending.remove(userId);
    if (next == null) {
      return;
    }
    inFlight.add(userId);
    pool.preparedQuery(UPDATE_STATE)
        .execute(Tuple.of(next.online() ? "online" : "offline", next.version(), userId, next.version()))
        .onComplete(ar -> {
          inFlight.remove(userId);
          if (ar.succeeded()) {
            retryDelayMs = FIRST_RETRY_MS;
            boolean landed = ar.result().rowCount() > 0;
            next.waiters().forEach(w -> w.tryComplete(landed));
            flush(userId);
          } else {
            pending.merge(userId, next, Pending::newest);
            scheduleRetry(ar.cause());
          }
        });
  }

  private void scheduleRetry(Throwable cause) {
    if (retryScheduled) {
      return;
    }
    retryScheduled = true;
    LOG.warn("user.state write failed, {} users pending, retry in {} ms: {}",
        pending.size(), retryDelayMs, cause.getMessage());
    vertx.setTimer(retryDelayMs, t -> {
      retryScheduled = false;
      retryDelayMs = Math.min(retryDelayMs * 2, MAX_RETRY_MS);
      List<Integer> users = List.copyOf(pending.keySet());
      users.forEach(this::flush);
    });
  }

}
