package chat.user.repo;

import chat.protocol.bus.FailureCodes;
import chat.protocol.bus.ServiceFailure;
import chat.protocol.config.DbUrl;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClientOptions;
import io.vertx.mysqlclient.MySQLBuilder;
import io.vertx.mysqlclient.MySQLClient;
import io.vertx.mysqlclient.MySQLConnectOptions;
import io.vertx.mysqlclient.MySQLException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Accounts, friends and groups in MySQL/MariaDB, on a Vert.x pool. Duplicate
 * keys (1062) and missing referenced rows (1452) are turned into the matching failure codes;
 * every other error is passed on unchanged.
 */
public final class UserRepository {

  /** MySQL/MariaDB error numbers this class acts on. */
  public static final int ER_DUP_ENTRY = 1062;
  public static final int ER_NO_REFERENCED_ROW = 1452;
  public static final int ER_LOCK_DEADLOCK = 1213;

  /** A database that does not accept a connection within this time counts as unavailable. */
  public static final int CONNECT_TIMEOUT_MS = 5_000;

  public static final String ROLE_CREATOR = "creator";
  public static final String ROLE_NORMAL = "normal";

  /** A user row as login needs it. */
  public record Account(int id, String name, String passwordHash, long tokensRevokedAt) {
    @Override
    public String toString() {
      return "Account[id=" + id + "]";
    }
  }

  public record Friend(int id, String name) {
  }

  /**
   * The friends of a user, and whether the user is in any group and has any pending message
   * (when not, those reads are known to be empty).
   */
  public record FriendsAndFlags(List<Friend> friends, boolean inGroups, boolean hasPending) {
  }

  public record Member(int id, String name, String role) {
  }

  public record Group(int id, String groupname, String groupdesc, List<Member> users) {
  }

  private final Pool pool;

  public UserRepository(Pool pool) {
    this.pool = pool;
  }

  /** A pool of {@code size} connections (utf8mb4) to the database at {@code url}. */
  public static Pool createPool(Vertx vertx, DbUrl url, int size) {
    return createPool(vertx, url, size, "user-service");
  }

  /**
   * A pool shared by the verticle's instances under {@code name}; the retention job has its own
   * one-connection pool, so a delete waiting on a row lock never takes a connection that
   * logins and message appends need.
   */
  public static Pool createPool(Vertx vertx, DbUrl url, int size, String name) {
    return MySQLBuilder.pool()
        .with(new PoolOptions()
            .setMaxSize(size)
            // one pool per node, shared by the verticle's instances
            .setShared(true)
            .setName(name)
            // waiting longer than this for a connection means the database cannot keep up
            .setConnectionTimeout(10)
            .setConnectionTimeoutUnit(TimeUnit.SECONDS))
        .with(new NetClientOptions().setConnectTimeout(CONNECT_TIMEOUT_MS))
        .connectingTo(connectOptions(url))
        .using(vertx)
        .build();
  }

  /** Connect options for the database at {@code url} (utf8mb4), caching prepared statements. */
  private static MySQLConnectOptions connectOptions(DbUrl url) {
    return new MySQLConnectOptions(url.connectOptions())
        .setCachePreparedStatements(true)
        .setPreparedStatementCacheMaxSize(128);
  }

  /** The pool, for the other stores of the service. */
  public Pool pool() {
    return pool;
  }

  public Future<Void> close() {
    return pool.close();
  }

  public Future<Void> ping() {
    return pool.query(SqlQueries.PING).execute().mapEmpty();
  }

  // ---- accounts ----

  /** The new user's id; fails NAME_TAKEN when the name is in use. */
  public Future<Integer> insertUser(String name, String passwordHash) {
    return pool.preparedQuery(SqlQueries.INSERT_USER)
        .execute(Tuple.of(name, passwordHash))
        .map(UserRepository::lastInsertedId)
        .recover(err -> Future.failedFuture(
            isError(err, ER_DUP_ENTRY)
                ? new ServiceFailure(FailureCodes.NAME_TAKEN, "name already taken")
                : err));
  }

  public Future<Optional<Account>> findById(int id) {
    return pool.preparedQuery(SqlQueries.SELECT_USER_BY_ID)
        .execute(Tuple.of(id))
        .map(UserRepository::firstAccount);
  }

  public Future<Optional<Account>> findByName(String name) {
    return pool.preparedQuery(SqlQueries.SELECT_USER_BY_NAME)
        .execute(Tuple.of(name))
        .map(UserRepository::firstAccount);
  }

  /** Revokes every token issued at or before {@code atMillis}; false when there is no such user. */
  public Future<Boolean> revokeTokens(int userId, long atMillis) {
    return pool.preparedQuery(SqlQueries.REVOKE_TOKENS)
        .execute(Tuple.of(atMillis, userId))
        .map(rows -> rows.rowCount() > 0);
  }

  // ---- friends ----

  /** Stores the friendship both ways; adding it again changes nothing. Fails NO_SUCH_USER. */
  public Future<Void> addFriendship(int userId, int friendId) {
    // rows in a fixed order, so two users befriending each other at once do not deadlock
    int low = Math.min(userId, friendId);
    int high = Math.max(userId, friendId);
    return retryOnDeadlock(() -> pool.preparedQuery(SqlQueries.INSERT_FRIENDSHIP)
        .execute(Tuple.of(low, high, high, low)))
        .<Void>mapEmpty()
        .recover(err -> Future.failedFuture(
            isError(err, ER_NO_REFERENCED_ROW)
                ? new ServiceFailure(FailureCodes.NO_SUCH_USER, "no such user")
                : err));
  }

  public Future<List<Integer>> friendIds(int userId) {
    return pool.preparedQuery(SqlQueries.SELECT_FRIEND_IDS)
        .execute(Tuple.of(userId))
        .map(rows -> {
          List<Integer> ids = new ArrayList<>(rows.size());
          rows.forEach(row -> ids.add(row.getInteger(0)));
          return ids;
        });
  }

  /**
   * The friends' ids of each user named; a user without friends is absent. The list is padded
   * with its first id again to a power of two (an {@code IN} list matches a row once): a
   * handful of statement texts, each prepared once per connection and cached, where batches
   * of every size (presence's transitions) prepared a new one at nearly each size.
   */
  public Future<Map<Integer, List<Integer>>> friendIdsOf(List<Integer> userIds) {
    List<Object> ids = new ArrayList<>(userIds);
    int size = ids.isEmpty() ? 0 : SqlQueries.listShape(ids.size(), Integer.MAX_VALUE);
    while (ids.size() < size) {
      ids.add(ids.get(0));
    }
    return pool.preparedQuery(SqlQueries.selectFriendIdsOf(ids.size()))
        .execute(Tuple.from(ids))
        .map(rows -> {
          Map<Integer, List<Integer>> friends = new HashMap<>();
          rows.forEach(row -> friends.computeIfAbsent(row.getInteger(0), id -> new ArrayList<>())
              .add(row.getInteger(1)));
          return friends;
        });
  }

  public Future<List<Friend>> friends(int userId) {
    return pool.preparedQuery(SqlQueries.SELECT_FRIENDS)
        .execute(Tuple.of(userId))
        .map(rows -> {
          List<Friend> friends = new ArrayList<>(rows.size());
          rows.forEach(row -> friends.add(new Friend(row.getInteger(0), row.getString(1))));
          return friends;
        });
  }

  /**
   * One statement: {@link #friends} (by id) and whether groups and pending messages exist;
   * a user without a row has none of them.
   */
  public Future<FriendsAndFlags> friendsAndFlags(int userId) {
    return pool.preparedQuery(SqlQueries.SELECT_FRIENDS_AND_FLAGS)
        .execute(Tuple.of(userId, userId, userId))
        .map(rows -> {
          List<Friend> friends = new ArrayList<>(rows.size());
          boolean inGroups = false;
          boolean hasPending = false;
          for (Row row : rows) {
            inGroups = row.getInteger(0) != 0;
            hasPending = row.getInteger(1) != 0;
            Integer id = row.getInteger(2);
            if (id != null) {
              friends.add(new Friend(id, row.getString(3)));
            }
          }
          friends.sort(Comparator.comparingInt(Friend::id));
          return new FriendsAndFlags(friends, inGroups, hasPending);
        });
  }

  // ---- groups ----

  /**
   * Creates the group with its creator as first member, in one transaction; the new group id.
   * Fails NAME_TAKEN, NO_SUCH_USER.
   */
  public Future<Integer> createGroup(int creatorId, String groupname, String groupdesc) {
    return pool.withTransaction(conn -> conn.preparedQuery(SqlQueries.INSERT_GROUP)
            .execute(Tuple.of(groupname, groupdesc))
            .map(UserRepository::lastInsertedId)
            .compose(groupId -> conn.preparedQuery(SqlQueries.INSERT_GROUP_MEMBER)
                .execute(Tuple.of(groupId, creatorId, ROLE_CREATOR))
                .map(groupId)))
        .recover(err -> {
          if (isError(err, ER_DUP_ENTRY)) {
            return Future.failedFuture(
                new ServiceFailure(FailureCodes.NAME_TAKEN, "group name already taken"));
          }
          if (isError(err, ER_NO_REFERENCED_ROW)) {
            return Future.failedFuture(
                new ServiceFailure(FailureCodes.NO_SUCH_USER, "no such user"));
          }
          return Future.failedFuture(err);
        });
  }

  /** Adds the user as a normal member; joining again changes nothing. Fails NO_SUCH_GROUP. */
  public Future<Void> joinGroup(int userId, int groupId) {
    return retryOnDeadlock(() -> pool.preparedQuery(SqlQueries.INSERT_GROUP_MEMBER)
        .execute(Tuple.of(groupId, userId, ROLE_NORMAL)))
        .<Void>mapEmpty()
        .recover(err -> isError(err, ER_NO_REFERENCED_ROW)
            ? whichIsMissing(groupId) : Future.failedFuture(err));
  }

  private Future<Void> whichIsMissing(int groupId) {
    return pool.preparedQuery(SqlQueries.SELECT_GROUP_EXISTS)
        .execute(Tuple.of(groupId))
        .compose(rows -> Future.failedFuture(rows.size() == 0
            ? new ServiceFailure(FailureCodes.NO_SUCH_GROUP, "no such group")
            : new ServiceFailure(FailureCodes.NO_SUCH_USER, "no such user")));
  }

  /** The member ids of the group, ascending; empty when the group does not exist. */
  public Future<Optional<List<Integer>>> groupMemberIds(int groupId) {
    return pool.preparedQuery(SqlQueries.SELECT_GROUP_MEMBER_IDS)
        .execute(Tuple.of(groupId))
        .map(rows -> {
          if (rows.size() == 0) {
            return Optional.empty();
          }
          List<Integer> ids = new ArrayList<>(rows.size());
          for (Row row : rows) {
            Integer member = row.getInteger(1);
            if (member != null) {
              ids.add(member);
            }
          }
          return Optional.of(ids);
        });
  }

  /** Every group the user belongs to, each with all its members. */
  public Future<List<Group>> groupsOf(int userId) {
    return pool.preparedQuery(SqlQueries.SELECT_GROUPS_OF_USER)
        .execute(Tuple.of(userId))
        .map(UserRepository::groups);
  }

  private static List<Group> groups(RowSet<Row> rows) {
    List<Group> groups = new ArrayList<>();
    for (Row row : rows) {
      addMember(groups, row.getInteger("id"), row.getString("groupname"),
          row.getString("groupdesc"), new Member(row.getInteger("member_id"),
              row.getString("member_name"), row.getString("grouprole")));
    }
    return groups;
  }

  /**
   * Adds one member row of rows read in group order: to the last group when it is that group,
   * else to a new group.
   */
  private static void addMember(List<Group> groups, int groupId, String name, String description,
                                Member member) {
    Group last = groups.isEmpty() ? null : groups.get(groups.size() - 1);
    if (last == null || last.id() != groupId) {
      last = new Group(groupId, name, description, new ArrayList<>());
      groups.add(last);
    }
    last.users().add(member);
  }

  // ---- cluster secret ----

  /**
   * The secret stored under {@code name}; when there is none yet, {@code candidate} is stored
   * first. Concurrent callers on several nodes all end up with the same secret.
   */
  public Future<String> clusterSecret(String name, String candidate) {
    return pool.preparedQuery(SqlQueries.INSERT_SECRET_IF_ABSENT)
        .execute(Tuple.of(name, candidate))
        .compose(ignored -> pool.preparedQuery(SqlQueries.SELECT_SECRET).execute(Tuple.of(name)))
        .compose(rows -> rows.size() == 0
            ? Future.failedFuture(new IllegalStateException("cluster secret not stored"))
            : Future.succeededFuture(rows.iterator().next().getString(0)));
  }

  // ---- helpers ----

  /** Whether the failure is a MySQL/MariaDB error with that number. */
  public static boolean isError(Throwable err, int errorCode) {
    return err instanceof MySQLException e && e.getErrorCode() == errorCode;
  }

  private static <T> Future<T> retryOnDeadlock(Supplier<Future<T>> statement) {
    return statement.get().recover(err -> isError(err, ER_LOCK_DEADLOCK)
        ? statement.get() : Future.failedFuture(err));
  }

  private static int lastInsertedId(RowSet<Row> rows) {
    Long id = rows.property(MySQLClient.LAST_INSERTED_ID);
    return Math.toIntExact(id);
  }

  private static Optional<Account> firstAccount(RowSet<Row> rows) {
    if (rows.size() == 0) {
      return Optional.empty();
    }
    Row row = rows.iterator().next();
    return Optional.of(new Account(row.getInteger("id"), row.getString("name"),
        row.getString("password"), row.getLong("tokens_revoked_at")));
  }
}
