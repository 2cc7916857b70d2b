package chat.user.repo;

import io.vertx.core.Future;
import io.vertx.mysqlclient.MySQLClient;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.SqlResult;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;

/**
 * The message log and the users' mailboxes (schema V2): appends idempotent by msgno, pages of
 * pending messages, acknowledgement of exactly the messages named, history pages of a
 * conversation, and retention. The user-service README says why it is shaped this way.
 */
public final class MessageStore {

  /** How often a transaction that lost a deadlock is run again (every append is idempotent). */
  static final int DEADLOCK_RETRIES = 3;
  /** Values in one IN (...) list at most. */
  static final int IN_LIST_MAX = 1_000;

  /** One message to append: its log row and who is waiting for it or already has it. */
  public record Append(String msgno, String conv, int sender, String body,
      List<Integer> pending, List<Integer> delivered) {
  }

  /** What became of one append, per pending user (and delivered users that do not exist). */
  public record AppendResult(List<Integer> stored, List<Integer> full, List<Integer> missing) {
  }

  public record Pending(String msgno, String body) {
  }

  public record Page<T>(List<T> items, boolean more) {
  }

  private final Pool pool;

  public MessageStore(Pool pool) {
    this.pool = pool;
  }

  /**
   * Appends the messages in one transaction, in the order given (so the log id order is the
   * order of the list). For each message: the log row is inserted unless its msgno is there
   * already (then it is reused; with {@code keepHistory} false a message nobody waits for is not
   * logged); each pending user gets a pending mailbox row unless a row exists (pending or not),
   * is refused as full at {@code offlineMax} pending rows, or is missing; each delivered user's
   * row becomes not pending (delivered wins).
   */
  public Future<List<AppendResult>> append(List<Append> messages, long nowMillis,
      boolean keepHistory, int offlineMax) {
    TreeSet<Integer> users = new TreeSet<>();
    messages.forEach(m -> {
      users.addAll(m.pending());
      users.addAll(m.delivered());
    });
    return existing(users)
        .compose(found -> ensureMailboxLocks(found).map(found))
        .compose(found -> retryOnDeadlock(() -> pool.withTransaction(
            conn -> appendAll(conn, messages, found, nowMillis, keepHistory, offlineMax))));
  }

  /** Which of the users exist: a plain read, so no `user` row is ever locked by an append. */
  private Future<TreeSet<Integer>> existing(TreeSet<Integer> users) {
    TreeSet<Integer> found = new TreeSet<>();
    Future<Void> all = Future.succeededFuture();
    for (List<Integer> chunk : chunks(users)) {
      all = all.compose(v -> pool.preparedQuery(SqlQueries.existingUsers(chunk.size()))
          .execute(Tuple.from(chunk))
          .map(rows -> {
            rows.forEach(row -> found.add(row.getInteger(0)));
            return null;
          }));
    }
    return all.map(found);
  }

  /** Each user's lock row, created on first use (autocommit: held for no time). */
  private Future<Void> ensureMailboxLocks(TreeSet<Integer> users) {
    Future<Void> all = Future.succeededFuture();
    for (List<Integer> chunk : chunks(users)) {
      all = all.compose(v -> pool.preparedQuery(SqlQueries.insertMailboxLocks(chunk.size()))
          .execute(Tuple.from(chunk))
          .mapEmpty());
    }
    return all;
  }

  private Future<List<AppendResult>> appendAll(SqlConnection conn, List<Append> messages,
      TreeSet<Integer> found, long nowMillis, boolean keepHistory, int offlineMax) {
    // lock the recipients' mailboxes first, in id order: appends for the same user run one
    // after the other, so a later one can never commit before an earlier one (a reader would
    // see the higher id first), the pending count below is exact, and two appends never wait
    // for each other in a cycle
    Future<Void> locked = Future.succeededFuture();
    for (List<Integer> chunk : chunks(found)) {
      locked = locked.compose(v -> conn.preparedQuery(SqlQueries.lockMailboxes(chunk.size()))
          .execute(Tuple.from(chunk))
          .mapEmpty());
    }
    return locked.compose(v -> pendingCounts(conn, found).compose(counts -> {
      List<AppendResult> results = new ArrayList<>(messages.size());
      Future<Void> chain = Future.succeededFuture();
      for (Append message : messages) {
        chain = chain.compose(x -> appendOne(conn, message, found, counts, nowMillis,
            keepHistory, offlineMax).map(result -> {
              results.add(result);
              return null;
            }));
      }
      return chain.map(x -> results);
    }));
  }

  private static Future<Map<Integer, Integer>> pendingCounts(SqlConnection conn,
      Set<Integer> users) {
    Map<Integer, Integer> counts = new HashMap<>();
    Future<Void> all = Future.succeededFuture();
    for (List<Integer> chunk : chunks(new TreeSet<>(users))) {
      all = all.compose(v -> conn.preparedQuery(SqlQueries.countPending(chunk.size()))
          .execute(Tuple.from(chunk))
          .map(rows -> {
            rows.forEach(row -> counts.put(row.getInteger(0), row.getInteger(1)));
            return null;
          }));
    }
    return all.map(counts);
  }

  /** Ascending ids in lists of at most {@link #IN_LIST_MAX}, for IN (...) statements. */
  private static List<List<Integer>> chunks(TreeSet<Integer> ids) {
    List<List<Integer>> chunks = new ArrayList<>();
    List<Integer> current = new ArrayList<>();
    for (Integer id : ids) {
      if (current.size() == IN_LIST_MAX) {
        chunks.add(current);
        current = new ArrayList<>();
      }
      current.add(id);
    }
    if (!current.isEmpty()) {
      chunks.add(current);
    }
    return chunks;
  }

  private static Future<AppendResult> appendOne(SqlConnection conn, Append message,
      Set<Integer> existing, Map<Integer, Integer> counts, long nowMillis, boolean keepHistory,
      int offlineMax) {
    Set<Integer> delivered = new LinkedHashSet<>(message.delivered());
    List<Integer> stored = new ArrayList<>();
    List<Integer> full = new ArrayList<>();
    List<Integer> missing = new ArrayList<>();
    List<Integer> toStore = new ArrayList<>();
    for (Integer user : new LinkedHashSet<>(message.pending())) {
      if (!existing.contains(user)) {
        missing.add(user);
      } else if (delivered.contains(user)) {
        stored.add(user); // it has the message: nothing waits
      } else {
        toStore.add(user);
      }
    }
    for (Integer user : delivered) {
      if (!existing.contains(user) && !missing.contains(user)) {
        missing.add(user);
      }
    }
    delivered.retainAll(existing);
    if (!keepHistory && toStore.isEmpty()) {
      return Future.succeededFuture(new AppendResult(stored, full, missing));
    }
    return conn.preparedQuery(SqlQueries.INSERT_MESSAGE)
        .execute(Tuple.of(message.msgno(), message.conv(), message.sender(), nowMillis,
            message.body()))
        .map(rows -> (Long) rows.property(MySQLClient.LAST_INSERTED_ID))
        .compose(messageId -> {
          Future<Void> chain = Future.succeededFuture();
          for (Integer user : toStore) {
            chain = chain.compose(v -> storePending(conn, user, messageId, counts, offlineMax)
                .map(ok -> {
                  (ok ? stored : full).add(user);
                  return null;
                }));
          }
          for (Integer user : delivered) {
            chain = chain.compose(v -> conn.preparedQuery(SqlQueries.UPSERT_DELIVERED)
                .execute(Tuple.of(user, messageId)).mapEmpty());
          }
          return chain;
        })
        .map(v -> new AppendResult(stored, full, missing));
  }

  /** True when the user has the message pending (now or already) or had it; false: full. */
  private static Future<Boolean> storePending(SqlConnection conn, int user, long messageId,
      Map<Integer, Integer> counts, int offlineMax) {
    int count = counts.getOrDefault(user, 0);
    if (count >= offlineMax) {
      // full, unless this very message is there already (a retried append)
      return conn.preparedQuery(SqlQueries.SELECT_MAILBOX_ROW)
          .execute(Tuple.of(user, messageId))
          .map(rows -> rows.size() > 0);
    }
    return conn.preparedQuery(SqlQueries.INSERT_PENDING)
        .execute(Tuple.of(user, messageId))
        .map(rows -> {
          if (rows.rowCount() > 0) {
            counts.put(user, count + 1);
          }
          return true;
        });
  }

  /** The user's oldest {@code limit} pending messages, in log order; more: others wait. */
  public Future<Page<Pending>> pendingPage(int userId, int limit) {
    return pool.preparedQuery(SqlQueries.SELECT_PENDING_PAGE)
        .execute(Tuple.of(userId, limit + 1))
        .map(rows -> {
          List<Pending> page = new ArrayList<>(Math.min(rows.size(), limit));
          for (Row row : rows) {
            if (page.size() == limit) {
              return new Page<>(page, true);
            }
            page.add(new Pending(row.getString(0), row.getString(1)));
          }
          return new Page<>(page, false);
        });
  }

  /** Marks exactly the user's pending messages with these msgnos as had; how many they were. */
  public Future<Integer> ack(int userId, Collection<String> msgnos) {
    if (msgnos.isEmpty()) {
      return Future.succeededFuture(0);
    }
    List<Object> values = new ArrayList<>(msgnos.size() + 1);
    values.add(userId);
    values.addAll(msgnos);
    return retryOnDeadlock(() -> pool.preparedQuery(SqlQueries.ackPending(msgnos.size()))
        .execute(Tuple.from(values)))
        .map(SqlResult::rowCount);
  }

  /** The log id of the message with that msgno in that conversation. */
  public Future<Optional<Long>> messageId(String msgno, String conv) {
    return pool.preparedQuery(SqlQueries.SELECT_MESSAGE_IN_CONV)
        .execute(Tuple.of(msgno, conv))
        .map(rows -> rows.size() == 0
            ? Optional.empty() : Optional.of(rows.iterator().next().getLong(0)));
  }

  /**
   * The newest {@code limit} message bodies of the conversation with an id below
   * {@code beforeId} and created at or after {@code sinceMillis}, oldest first; more: older
   * ones within the window exist.
   */
  public Future<Page<String>> history(String conv, long beforeId, long sinceMillis, int limit) {
    return pool.preparedQuery(SqlQueries.SELECT_HISTORY)
        .execute(Tuple.of(conv, beforeId, sinceMillis, limit + 1))
        .map(rows -> {
          List<String> newestFirst = new ArrayList<>(Math.min(rows.size(), limit));
          for (Row row : rows) {
            if (newestFirst.size() < limit) {
              newestFirst.add(row.getString(0));
            }
          }
          List<String> oldestFirst = new ArrayList<>(newestFirst.size());
          for (int i = newestFirst.size() - 1; i >= 0; i--) {
            oldestFirst.add(newestFirst.get(i));
          }
          return new Page<>(oldestFirst, rows.size() > limit);
        });
  }

  /** Deletes at most {@code batch} expired messages nobody waits for; how many went. */
  public Future<Integer> deleteExpired(long cutoffMillis, int batch) {
    return retryOnDeadlock(() -> pool.preparedQuery(SqlQueries.DELETE_EXPIRED_MESSAGES)
        .execute(Tuple.of(cutoffMillis, batch)))
        .map(SqlResult::rowCount);
  }

  public Future<Boolean> userExists(int userId) {
    return pool.preparedQuery(SqlQueries.SELECT_USER_EXISTS)
        .execute(Tuple.of(userId))
        .map(rows -> rows.size() > 0);
  }

  private static <T> Future<T> retryOnDeadlock(Supplier<Future<T>> work) {
    Future<T> attempt = work.get();
    for (int i = 0; i < DEADLOCK_RETRIES; i++) {
      attempt = attempt.recover(err -> UserRepository.isError(err, UserRepository.ER_LOCK_DEADLOCK)
          ? work.get() : Future.failedFuture(err));
    }
    return attempt;
  }
}
