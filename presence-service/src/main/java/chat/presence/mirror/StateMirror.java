package chat.presence.mirror;

import chat.presence.store.PresenceStore;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Mirrors the online map into {@code user.state}. Each write carries the version of the
 * transition it reports and only lands when it is newer than what the row holds, so writes
 * may arrive in any order, be retried, or race another node's write, and the row still ends
 * at the latest transition. While the database is unreachable the newest pending state of
 * each user is kept and retried with backoff; nothing blocks the event loop.
 *
 * <p>Writes are batched: what is pending when the context next runs goes out as one
 * transaction of up to {@value #BATCH} users (one locking read, one UPDATE joined to the
 * batch's values, each row still guarded by "only if its version is older"), at most
 * {@value #BATCHES_IN_FLIGHT} batches of offline writes at a time. A node loss turns thousands of sessions
 * into thousands of offline transitions at once: they cost a few statements, not one
 * statement each.
 *
 * <p>A user's pending {@code online} goes first: the online writes pending are sent before
 * any offline one, in batches of their own; each lane may have {@value #BATCHES_IN_FLIGHT}
 * batches in flight and both together {@value #ALL_BATCHES_IN_FLIGHT}, so an online write
 * never waits for a batch of offline ones to free a place. So a login's row never
 * queues behind the thousands of offline rows of a node loss or a drain; it waits at most
 * for one batch that already carries an older state of the same user.
 *
 * <p>Used from one verticle's context only.
 */
public final class StateMirror {

  private static final Logger LOG = LoggerFactory.getLogger(StateMirror.class);
  /** Users written by one statement at most. */
  static final int BATCH = 500;
  /**
   * Batches of one lane (online writes, offline writes) being written at once: the rest of
   * the pool stays free for the reads of logins (version seeds) and of the reconciliation.
   */
  static final int BATCHES_IN_FLIGHT = 2;
  /**
   * Batches in flight at once, online and offline writes together: one more than either
   * lane may take, so an online write never waits for offline batches to free one.
   */
  static final int ALL_BATCHES_IN_FLIGHT = BATCHES_IN_FLIGHT + 1;
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
  /** Users whose newest pending state is online (logins): sent first. */
  private final Map<Integer, Pending> pendingOnline = new LinkedHashMap<>();
  /** Users whose newest pending state is offline. */
  private final Map<Integer, Pending> pendingOffline = new LinkedHashMap<>();
  private final Set<Integer> inFlight = new HashSet<>();
  private int onlineBatchesInFlight;
  private int offlineBatchesInFlight;
  private boolean flushScheduled;
  private long retryDelayMs = FIRST_RETRY_MS;
  private boolean retryScheduled;
  private long statements;

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
    pend(userId, new Pending(online, version, List.of(written)));
    scheduleFlush();
    return written.future();
  }

  /** Keeps the newest pending state of the user, in the lane of that state. */
  private void pend(int userId, Pending next) {
    Pending before = pendingOnline.remove(userId);
    if (before == null) {
      before = pendingOffline.remove(userId);
    }
    Pending newest = before == null ? next : before.newest(next);
    (newest.online() ? pendingOnline : pendingOffline).put(userId, newest);
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
    List<Integer> ids = padded(new ArrayList<>(userIds));
    return pool.preparedQuery("SELECT id, state, state_version FROM user WHERE id IN ("
            + marks(ids.size()) + ")")
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
    return pendingOnline.size() + pendingOffline.size() + inFlight.size();
  }

  /** Whether a write of this user is pending or on its way to the database. */
  public boolean writing(int userId) {
    return inFlight.contains(userId) || pendingOnline.containsKey(userId)
        || pendingOffline.containsKey(userId);
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

  /** How many write statements (batches) were sent so far: tests see the batching. */
  public long statements() {
    return statements;
  }

  /** Flushes once the context is free: the writes of one sweep or burst share batches. */
  private void scheduleFlush() {
    if (!flushScheduled) {
      flushScheduled = true;
      vertx.runOnContext(v -> {
        flushScheduled = false;
        flush();
      });
    }
  }

  private void flush() {
    while (!retryScheduled
        && onlineBatchesInFlight + offlineBatchesInFlight < ALL_BATCHES_IN_FLIGHT) {
      // Online writes first; each lane has up to BATCHES_IN_FLIGHT batches, and together
      // they have one more, so neither lane ever waits for the other to free a batch.
      boolean online = onlineBatchesInFlight < BATCHES_IN_FLIGHT && !pendingOnline.isEmpty();
      Map<Integer, Pending> batch = online ? takeBatch(pendingOnline) : Map.of();
      online = !batch.isEmpty();
      if (!online && offlineBatchesInFlight < BATCHES_IN_FLIGHT) {
        batch = takeBatch(pendingOffline);
      }
      if (batch.isEmpty()) {
        return;
      }
      send(batch, online);
    }
  }

  /**
   * Up to {@value #BATCH} users of one lane, taken out of it; one write per user at a time:
   * a newer state waits for the one on its way.
   */
  private Map<Integer, Pending> takeBatch(Map<Integer, Pending> lane) {
    Map<Integer, Pending> batch = new TreeMap<>();
    for (Iterator<Map.Entry<Integer, Pending>> it = lane.entrySet().iterator();
         it.hasNext() && batch.size() < BATCH; ) {
      Map.Entry<Integer, Pending> next = it.next();
      if (!inFlight.contains(next.getKey())) {
        batch.put(next.getKey(), next.getValue());
        it.remove();
      }
    }
    return batch;
  }

  private void send(Map<Integer, Pending> batch, boolean online) {
    inFlight.addAll(batch.keySet());
    if (online) {
      onlineBatchesInFlight++;
    } else {
      offlineBatchesInFlight++;
    }
    statements++;
    writeBatch(batch).onComplete(ar -> {
      if (online) {
        onlineBatchesInFlight--;
      } else {
        offlineBatchesInFlight--;
      }
      inFlight.removeAll(batch.keySet());
      if (ar.succeeded()) {
        retryDelayMs = FIRST_RETRY_MS;
        Set<Integer> landed = ar.result();
        batch.forEach((userId, p) ->
            p.waiters().forEach(w -> w.tryComplete(landed.contains(userId))));
      } else {
        batch.forEach(this::pend);
        scheduleRetry(ar.cause());
      }
      flush();
    });
  }

  /**
   * Writes one batch (user id → newest state, in id order) in one transaction: the rows are
   * read and locked in id order, those older than their write are updated by one statement,
   * and exactly those are reported as landed. Locking in id order keeps two members' batches
   * over the same users from deadlocking each other.
   */
  private Future<Set<Integer>> writeBatch(Map<Integer, Pending> batch) {
    List<Integer> ids = padded(new ArrayList<>(batch.keySet()));
    return pool.withTransaction(conn -> conn
        .preparedQuery("SELECT id, state_version FROM user WHERE id IN (" + marks(ids.size())
            + ") ORDER BY id FOR UPDATE")
        .execute(Tuple.from(ids))
        .compose(rows -> {
          Set<Integer> older = new HashSet<>();
          for (Row row : rows) {
            int id = row.getInteger(0);
            if (row.getLong(1) < batch.get(id).version()) {
              older.add(id);
            }
          }
          if (older.isEmpty()) {
            return Future.succeededFuture(older);
          }
          List<Integer> written = padded(older.stream().sorted()
              .collect(java.util.stream.Collectors.toCollection(ArrayList::new)));
          List<Object> values = new ArrayList<>(written.size() * 3);
          for (int id : written) {
            Pending p = batch.get(id);
            values.add(id);
            values.add(p.online() ? "online" : "offline");
            values.add(p.version());
          }
          return conn.preparedQuery(updateJoined(written.size())).execute(Tuple.from(values))
              .map(updated -> older);
        }));
  }

  /**
   * One UPDATE for {@code n} users: the row is joined to its user's (id, state, version) and
   * changed only when its version is older.
   */
  static String updateJoined(int n) {
    StringBuilder values = new StringBuilder("SELECT ? AS id, ? AS state, ? AS v");
    for (int i = 1; i < n; i++) {
      values.append(" UNION ALL SELECT ?, ?, ?");
    }
    return "UPDATE user u JOIN (" + values + ") w ON u.id = w.id"
        + " SET u.state = w.state, u.state_version = w.v WHERE u.state_version < w.v";
  }

  /**
   * The ids padded with the first one again to a power of two, so that the statements of a
   * batch have a handful of texts ({@code IN} lists and joined rows of 1, 2, 4, ... 512
   * users), each prepared once per connection and kept in its cache ({@link MirrorPool}),
   * whatever the number of users: a statement prepared again costs the database its parse
   * and the event loop the description of every parameter (three per user of an UPDATE).
   * An id twice changes nothing: {@code IN} matches a row once, and a multiple-table UPDATE
   * changes a row once, here to the same values.
   */
  static List<Integer> padded(List<Integer> ids) {
    int size = ids.size() <= 1 ? ids.size() : Integer.highestOneBit(ids.size() - 1) << 1;
    while (ids.size() < size) {
      ids.add(ids.get(0));
    }
    return ids;
  }

  private static String marks(int n) {
    return String.join(",", Collections.nCopies(n, "?"));
  }

  private void scheduleRetry(Throwable cause) {
    if (retryScheduled) {
      return;
    }
    retryScheduled = true;
    LOG.warn("user.state write failed, {} users pending, retry in {} ms: {}",
        pendingOnline.size() + pendingOffline.size(), retryDelayMs, cause.getMessage());
    vertx.setTimer(retryDelayMs, t -> {
      retryScheduled = false;
      retryDelayMs = Math.min(retryDelayMs * 2, MAX_RETRY_MS);
      flush();
    });
  }

}
