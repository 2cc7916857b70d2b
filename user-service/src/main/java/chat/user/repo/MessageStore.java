package chat.user.repo;

import io.vertx.core.Future;
import io.vertx.mysqlclient.MySQLClient;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
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
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
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
  /**
   * Log rows in one multi-row insert at most (its statement stays within the client's cache
   * limit of prepared statements), and their bodies' characters.
   */
  static final int LOG_ROWS_PER_STATEMENT = chat.protocol.bus.user.Append.LOG_ROWS_PER_INSERT;
  static final long LOG_BYTES_PER_STATEMENT = 2L * 1024 * 1024;

  /**
   * One message to append: its log row, who is waiting for it or already has it, the
   * recipients that must exist for it to be logged at all ({@code to}), and whether it leaves
   * the log again when nobody could take it ({@code refusable}: its sender is told so).
   */
  public record Append(String msgno, String conv, int sender, String body,
      List<Integer> pending, List<Integer> delivered, List<Integer> to, boolean refusable) {

    public Append(String msgno, String conv, int sender, String body, List<Integer> pending,
        List<Integer> delivered) {
      this(msgno, conv, sender, body, pending, delivered, List.of(), false);
    }

    /** Nobody waits for it nor has it yet: only its log row (the sender's accept). */
    boolean logOnly() {
      return pending.isEmpty() && delivered.isEmpty();
    }
  }

  /** What became of one append, per pending user (and delivered users that do not exist). */
  public record AppendResult(List<Integer> stored, List<Integer> full, List<Integer> missing) {
  }

  public record Pending(String msgno, String body) {
  }

  public record Page<T>(List<T> items, boolean more) {
  }

  /**
   * How long a user seen to exist counts as existing for an accept without asking again. No
   * request deletes a user; one deleted by hand in the database is still accepted as a
   * recipient for at most this long, and such chats only reach the log (a mailbox row for a
   * missing user is never written: stores always ask).
   */
  static final long KNOWN_USER_TTL_NANOS = TimeUnit.SECONDS.toNanos(60);
  /** Users remembered at most; beyond, the memory starts again empty. */
  static final int KNOWN_USERS_MAX = 100_000;

  private final Pool pool;
  private final long knownUserTtlNanos;
  /** Users seen to exist, with when (nanoTime): an accept to them costs one round trip. */
  private final Map<Integer, Long> knownUsers = new ConcurrentHashMap<>();

  public MessageStore(Pool pool) {
    this(pool, KNOWN_USER_TTL_NANOS);
  }

  MessageStore(Pool pool, long knownUserTtlNanos) {
    this.pool = pool;
    this.knownUserTtlNanos = knownUserTtlNanos;
  }

  /**
   * Appends the messages in one transaction, in the order given (so the log id order is the
   * order of the list). For each message: the log row is inserted unless its msgno is there
   * already (then it is reused; with {@code keepHistory} false a message nobody waits for is not
   * logged); a message whose {@code to} users do not all exist is not logged at all (they are
   * reported missing); each pending user gets a pending mailbox row unless a row exists
   * (pending or not), is refused as full at {@code offlineMax} pending rows, or is missing; each
   * delivered user's row becomes not pending (delivered wins). A {@code refusable} message that
   * no user took and nobody has leaves the log again. Messages that only go to the log (nobody
   * pending or delivered: a sender's accept) lock no mailbox and are inserted several rows per
   * statement.
   */
  public Future<List<AppendResult>> append(List<Append> messages, long nowMillis,
      boolean keepHistory, int offlineMax) {
    TreeSet<Integer> recipients = new TreeSet<>();
    TreeSet<Integer> users = new TreeSet<>();
    messages.forEach(m -> {
      recipients.addAll(m.pending());
      recipients.addAll(m.delivered());
      users.addAll(m.to());
    });
    users.addAll(recipients);
    if (messages.stream().allMatch(Append::logOnly)) {
      // log rows only (accepts): no transaction, each statement commits on its own (a retry
      // finds what an earlier try committed), so an accept costs one round trip, two when a
      // recipient was not seen to exist within the last minute
      return knownOrExisting(users).compose(found -> retryOnDeadlock(
          () -> appendLogOnly(pool, messages, found, nowMillis, keepHistory)));
    }
    return existing(users).compose(found -> {
      TreeSet<Integer> mailboxes = new TreeSet<>(recipients);
      mailboxes.retainAll(found);
      return ensureMailboxLocks(mailboxes)
          .compose(v -> retryOnDeadlock(() -> pool.withTransaction(conn -> appendAll(conn,
              messages, found, mailboxes, nowMillis, keepHistory, offlineMax))));
    });
  }

  /**
   * Which of the users exist, asking the database only about those not seen to exist within
   * {@link #KNOWN_USER_TTL_NANOS}; a user found missing is asked about again next time.
   */
  private Future<Set<Integer>> knownOrExisting(TreeSet<Integer> users) {
    long now = System.nanoTime();
    TreeSet<Integer> unknown = new TreeSet<>();
    for (int user : users) {
      Long seen = knownUsers.get(user);
      if (seen == null || now - seen >= knownUserTtlNanos) {
        unknown.add(user);
      }
    }
    if (unknown.isEmpty()) {
      return Future.succeededFuture(users);
    }
    return existing(unknown).map(found -> {
      if (knownUsers.size() + found.size() > KNOWN_USERS_MAX) {
        knownUsers.clear();
      }
      found.forEach(user -> knownUsers.put(user, now));
      TreeSet<Integer> all = new TreeSet<>(users);
      all.removeAll(unknown);
      all.addAll(found);
      return all;
    });
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
      TreeSet<Integer> found, TreeSet<Integer> mailboxes, long nowMillis, boolean keepHistory,
      int offlineMax) {
    // lock the recipients' mailboxes first, in id order: appends for the same user run one
    // after the other, so a later one can never commit before an earlier one (a reader would
    // see the higher id first), the pending count below is exact, and two appends never wait
    // for each other in a cycle
    Future<Void> locked = Future.succeededFuture();
    for (List<Integer> chunk : chunks(mailboxes)) {
      locked = locked.compose(v -> conn.preparedQuery(SqlQueries.lockMailboxes(chunk.size()))
          .execute(Tuple.from(chunk))
          .mapEmpty());
    }
    return locked.compose(v -> pendingCounts(conn, mailboxes).compose(counts -> {
      List<AppendResult> results = new ArrayList<>(messages.size());
      Future<Void> chain = Future.succeededFuture();
      int i = 0;
      while (i < messages.size()) {
        if (messages.get(i).logOnly()) {
          int end = i;
          while (end < messages.size() && messages.get(end).logOnly()) {
            end++;
          }
          List<Append> run = messages.subList(i, end);
          chain = chain.compose(x -> appendLogOnly(conn, run, found, nowMillis, keepHistory)
              .map(runResults -> {
                results.addAll(runResults);
                return null;
              }));
          i = end;
        } else {
          Append message = messages.get(i);
          chain = chain.compose(x -> appendOne(conn, message, found, counts, nowMillis,
              keepHistory, offlineMax).map(result -> {
                results.add(result);
                return null;
              }));
          i++;
        }
      }
      return chain.map(x -> results);
    }));
  }

  /**
   * Messages nobody waits for yet, in order: several log rows per statement (a msgno already
   * there is left as it is), none for a message whose {@code to} users are missing.
   */
  private static Future<List<AppendResult>> appendLogOnly(SqlClient conn, List<Append> run,
      Set<Integer> existing, long nowMillis, boolean keepHistory) {
    List<AppendResult> results = new ArrayList<>(run.size());
    List<List<Append>> statements = new ArrayList<>();
    List<Append> current = new ArrayList<>();
    long bytes = 0;
    for (Append message : run) {
      List<Integer> missing = missingOf(message.to(), existing);
      results.add(new AppendResult(List.of(), List.of(), missing));
      if (!missing.isEmpty() || !keepHistory) {
        continue;
      }
      if (!current.isEmpty() && (current.size() == LOG_ROWS_PER_STATEMENT
          || bytes + message.body().length() > LOG_BYTES_PER_STATEMENT)) {
        statements.add(current);
        current = new ArrayList<>();
        bytes = 0;
      }
      current.add(message);
      bytes += message.body().length();
    }
    if (!current.isEmpty()) {
      statements.add(current);
    }
    Future<Void> chain = Future.succeededFuture();
    for (List<Append> rows : statements) {
      // one of a few statement shapes: the last row repeated (a msgno already there is left
      // as it is) fills the statement up
      int shape = SqlQueries.rowShape(rows.size(), LOG_ROWS_PER_STATEMENT);
      List<Object> values = new ArrayList<>(shape * 5);
      for (int i = 0; i < shape; i++) {
        Append m = rows.get(Math.min(i, rows.size() - 1));
        values.add(m.msgno());
        values.add(m.conv());
        values.add(m.sender());
        values.add(nowMillis);
        values.add(m.body());
      }
      chain = chain.compose(v -> conn.preparedQuery(SqlQueries.insertMessages(shape))
          .execute(Tuple.from(values)).mapEmpty());
    }
    return chain.map(results);
  }

  private static List<Integer> missingOf(List<Integer> users, Set<Integer> existing) {
    List<Integer> missing = new ArrayList<>();
    for (Integer user : new LinkedHashSet<>(users)) {
      if (!existing.contains(user)) {
        missing.add(user);
      }
    }
    return missing;
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

  /**
   * Ascending ids in lists of at most {@link #IN_LIST_MAX}, for IN (...) and multi-row
   * statements, each filled up to its {@linkplain SqlQueries#listShape shape} by repeating its
   * last id (which changes nothing in these statements), so few statement shapes are prepared.
   */
  static List<List<Integer>> chunks(TreeSet<Integer> ids) {
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
    for (List<Integer> chunk : chunks) {
      Integer last = chunk.get(chunk.size() - 1);
      int shape = SqlQueries.listShape(chunk.size(), IN_LIST_MAX);
      while (chunk.size() < shape) {
        chunk.add(last);
      }
    }
    return chunks;
  }

  private static Future<AppendResult> appendOne(SqlConnection conn, Append message,
      Set<Integer> existing, Map<Integer, Integer> counts, long nowMillis, boolean keepHistory,
      int offlineMax) {
    List<Integer> missingTo = missingOf(message.to(), existing);
    if (!missingTo.isEmpty()) {
      return Future.succeededFuture(new AppendResult(List.of(), List.of(), missingTo));
    }
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
          // refused for every user (full or missing) and had by nobody: out of the log again,
          // its sender is answered with an error
          return chain.compose(v -> message.refusable() && stored.isEmpty() && delivered.isEmpty()
              ? conn.preparedQuery(SqlQueries.DELETE_UNCLAIMED_MESSAGE)
                  .execute(Tuple.of(messageId, messageId)).<Void>mapEmpty()
              : Future.<Void>succeededFuture());
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

  /**
   * Where the messages created before {@code cutoffMillis} end in the log: an id below which
   * every message was created before it and from which the next one was not, found by a binary
   * search over the primary key (about 30 point reads for a log of a billion). Ids follow
   * creation up to the clock differences between the nodes that wrote them, so the id found
   * lies among the messages created within those differences of the cutoff. 0 for an empty log.
   */
  public Future<Long> expiredBelow(long cutoffMillis) {
    return pool.query(SqlQueries.SELECT_LOG_ID_RANGE).execute().compose(rows -> {
      Row range = rows.iterator().next();
      Long min = range.getLong(0);
      Long max = range.getLong(1);
      return min == null ? Future.succeededFuture(0L) : firstNotExpired(min, max + 1, cutoffMillis);
    });
  }

  /**
   * The lowest id in [lo, hi] from which the first message (if any) was created at or after the
   * cutoff, given that from {@code hi} there is none before it.
   */
  private Future<Long> firstNotExpired(long lo, long hi, long cutoffMillis) {
    if (lo >= hi) {
      return Future.succeededFuture(lo);
    }
    long mid = lo + (hi - lo) / 2;
    return pool.preparedQuery(SqlQueries.SELECT_FIRST_FROM_ID).execute(Tuple.of(mid))
        .compose(rows -> {
          if (rows.size() == 0) {
            return firstNotExpired(lo, mid, cutoffMillis);
          }
          Row first = rows.iterator().next();
          long id = first.getLong(0);
          return first.getLong(1) >= cutoffMillis
              ? firstNotExpired(lo, mid, cutoffMillis)
              // every id from mid to this one starts at this expired message
              : firstNotExpired(id + 1, hi, cutoffMillis);
        });
  }

  /**
   * Deletes at most {@code batch} messages below {@code belowId} created before
   * {@code cutoffMillis} that nobody waits for, oldest first; how many went.
   */
  public Future<Integer> deleteExpired(long belowId, long cutoffMillis, int batch) {
    return retryOnDeadlock(() -> pool.preparedQuery(SqlQueries.DELETE_EXPIRED_MESSAGES)
        .execute(Tuple.of(belowId, cutoffMillis, batch)))
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
