package chat.user.repo;

import chat.protocol.bus.user.Append;
import java.util.Collections;

/**
 * Every SQL statement of the user service. All values are bound as parameters ({@code ?});
 * nothing a client sends is ever concatenated into SQL.
 */
public final class SqlQueries {

  private SqlQueries() {
  }

  public static final String PING = "SELECT 1";

  // ---- accounts ----

  public static final String INSERT_USER =
      "INSERT INTO `user` (name, password) VALUES (?, ?)";

  public static final String SELECT_USER_BY_ID =
      "SELECT id, name, password, tokens_revoked_at FROM `user` WHERE id = ?";

  public static final String SELECT_USER_BY_NAME =
      "SELECT id, name, password, tokens_revoked_at FROM `user` WHERE name = ?";

  /** Never moves backwards, so a node with a lagging clock cannot un-revoke tokens. */
  public static final String REVOKE_TOKENS =
      "UPDATE `user` SET tokens_revoked_at = GREATEST(tokens_revoked_at, ?) WHERE id = ?";

  // ---- friends (both directions stored) ----

  /** Idempotent; a missing user still fails the foreign key (unlike INSERT IGNORE). */
  public static final String INSERT_FRIENDSHIP =
      "INSERT INTO friend (userid, friendid) VALUES (?, ?), (?, ?)"
          + " ON DUPLICATE KEY UPDATE friendid = friendid";

  public static final String SELECT_FRIEND_IDS =
      "SELECT friendid FROM friend WHERE userid = ? ORDER BY friendid";

  /** The friends of several users: {@code n} placeholders, one per user. */
  public static String selectFriendIdsOf(int n) {
    return "SELECT userid, friendid FROM friend WHERE userid IN ("
        + String.join(", ", Collections.nCopies(n, "?")) + ") ORDER BY userid, friendid";
  }

  public static final String SELECT_FRIENDS =
      "SELECT u.id, u.name FROM friend f JOIN `user` u ON u.id = f.friendid"
          + " WHERE f.userid = ? ORDER BY u.id";

  /**
   * A LOGIN ack's first read: the user's friends (one row with a NULL friend when there is
   * none) and, on every row, whether the user is in any group and has any pending message,
   * so the reads of groups and stored messages run only when they can find something. Three
   * parameters, each the user's id. No ORDER BY: with the outer join, sorting took a temporary
   * table at every execution; the caller orders the few friends by id.
   */
  public static final String SELECT_FRIENDS_AND_FLAGS =
      "SELECT EXISTS (SELECT 1 FROM groupuser g WHERE g.userid = ?) AS in_groups,"
          + " EXISTS (SELECT 1 FROM mailbox b WHERE b.userid = ? AND b.pending = 1)"
          + " AS has_pending, u.id, u.name"
          + " FROM `user` me"
          + " LEFT JOIN (friend f JOIN `user` u ON u.id = f.friendid) ON f.userid = me.id"
          + " WHERE me.id = ?";

  // ---- groups ----

  public static final String INSERT_GROUP =
      "INSERT INTO allgroup (groupname, groupdesc) VALUES (?, ?)";

  /** Idempotent: joining again keeps the member's role (a creator stays creator). */
  public static final String INSERT_GROUP_MEMBER =
      "INSERT INTO groupuser (groupid, userid, grouprole) VALUES (?, ?, ?)"
          + " ON DUPLICATE KEY UPDATE grouprole = grouprole";

  public static final String SELECT_GROUP_EXISTS =
      "SELECT id FROM allgroup WHERE id = ?";

  /** One row per member, or one row with a NULL member when the group has none; no row: no group. */
  public static final String SELECT_GROUP_MEMBER_IDS =
      "SELECT g.id, m.userid FROM allgroup g LEFT JOIN groupuser m ON m.groupid = g.id"
          + " WHERE g.id = ? ORDER BY m.userid";

  /** Every group of the user with every member of each, ordered by group then member. */
  public static final String SELECT_GROUPS_OF_USER =
      "SELECT g.id, g.groupname, g.groupdesc, u.id AS member_id, u.name AS member_name,"
          + " m.grouprole"
          + " FROM groupuser me"
          + " JOIN allgroup g ON g.id = me.groupid"
          + " JOIN groupuser m ON m.groupid = g.id"
          + " JOIN `user` u ON u.id = m.userid"
          + " WHERE me.userid = ?"
          + " ORDER BY g.id, u.id";

  // ---- message log and mailboxes ----

  /** Inserts the log row, or finds it by msgno: either way LAST_INSERT_ID is its id. */
  public static final String INSERT_MESSAGE =
      "INSERT INTO message (msgno, conv, sender, created_at, body) VALUES (?, ?, ?, ?, ?)"
          + " ON DUPLICATE KEY UPDATE id = LAST_INSERT_ID(id)";

  /** {@code n} log rows in one statement, in order; a msgno already logged stays as it is. */
  public static String insertMessages(int n) {
    // written compactly: a statement longer than the client's prepared-statement cache limit
    // (2,048 characters by default) is prepared and closed again at every use
    return "INSERT INTO message (msgno,conv,sender,created_at,body) VALUES "
        + "(?,?,?,?,?),".repeat(n - 1) + "(?,?,?,?,?) ON DUPLICATE KEY UPDATE id=id";
  }

  /** A message out of the log again, unless some user has a mailbox row for it. */
  public static final String DELETE_UNCLAIMED_MESSAGE =
      "DELETE FROM message WHERE id = ? AND NOT EXISTS"
          + " (SELECT 1 FROM mailbox b WHERE b.message_id = ?)";

  /** A pending entry unless the user already has a row for that message (pending or not). */
  public static final String INSERT_PENDING =
      "INSERT IGNORE INTO mailbox (userid, message_id, pending) VALUES (?, ?, 1)";

  /** The user has the message: a row that is not pending, whatever was there (delivered wins). */
  public static final String UPSERT_DELIVERED =
      "INSERT INTO mailbox (userid, message_id, pending) VALUES (?, ?, 0)"
          + " ON DUPLICATE KEY UPDATE pending = 0";

  public static final String SELECT_MAILBOX_ROW =
      "SELECT pending FROM mailbox WHERE userid = ? AND message_id = ?";

  /** The oldest pending messages of a user, in log order. */
  public static final String SELECT_PENDING_PAGE =
      "SELECT m.msgno, m.body FROM mailbox b JOIN message m ON m.id = b.message_id"
          + " WHERE b.userid = ? AND b.pending = 1 ORDER BY b.message_id LIMIT ?";

  public static final String SELECT_MESSAGE_IN_CONV =
      "SELECT id FROM message WHERE msgno = ? AND conv = ?";

  /** The newest messages of a conversation before an id and after a time, newest first. */
  public static final String SELECT_HISTORY =
      "SELECT body FROM message FORCE INDEX (idx_message_conv_id)"
          + " WHERE conv = ? AND id < ? AND created_at >= ? ORDER BY id DESC LIMIT ?";

  /** The lowest and highest id of the log (NULLs when it is empty). */
  public static final String SELECT_LOG_ID_RANGE = "SELECT MIN(id), MAX(id) FROM message";

  /** The first log row at or after an id: its id and creation time (a primary-key lookup). */
  public static final String SELECT_FIRST_FROM_ID =
      "SELECT id, created_at FROM message WHERE id >= ? ORDER BY id LIMIT 1";

  /**
   * One retention batch: the oldest expired messages below an id that nobody still waits for
   * (a pending mailbox row keeps its message), in primary-key order; their mailbox rows go
   * with them (foreign key cascade).
   */
  public static final String DELETE_EXPIRED_MESSAGES =
      "DELETE FROM message WHERE id < ? AND created_at < ? AND NOT EXISTS"
          + " (SELECT 1 FROM mailbox b WHERE b.message_id = message.id AND b.pending = 1)"
          + " ORDER BY id LIMIT ?";

  public static final String SELECT_USER_EXISTS =
      "SELECT id FROM `user` WHERE id = ?";

  /** The users that exist among {@code n} ids (a plain read: no lock on `user`). */
  public static String existingUsers(int n) {
    return "SELECT id FROM `user` WHERE id IN (" + placeholders(n) + ")";
  }

  /** Makes sure {@code n} users have their mailbox lock row (autocommit, before appending). */
  public static String insertMailboxLocks(int n) {
    return "INSERT IGNORE INTO mailbox_lock (userid) VALUES " + "(?), ".repeat(n - 1) + "(?)";
  }

  /** Locks {@code n} users' mailboxes, in id order (so appends never wait in a cycle). */
  public static String lockMailboxes(int n) {
    return "SELECT userid FROM mailbox_lock WHERE userid IN (" + placeholders(n) + ")"
        + " ORDER BY userid FOR UPDATE";
  }

  /** Pending counts of {@code n} users (users without any are left out). */
  public static String countPending(int n) {
    return "SELECT userid, COUNT(*) FROM mailbox WHERE userid IN (" + placeholders(n) + ")"
        + " AND pending = 1 GROUP BY userid";
  }

  /** Acknowledges exactly the pending rows of one user whose messages have {@code n} msgnos. */
  public static String ackPending(int n) {
    return "UPDATE mailbox b JOIN message m ON m.id = b.message_id SET b.pending = 0"
        + " WHERE b.userid = ? AND b.pending = 1 AND m.msgno IN (" + placeholders(n) + ")";
  }

  /**
   * The number of rows a statement for {@code n} rows is prepared with (the rest repeat the
   * last row, which changes nothing): {@code n} itself up to 8, then four sizes per doubling
   * (10, 12, 14, 16, 20, 24, ...), at most {@code max}. So a batch of any size is one statement
   * of one of a few shapes, which the connections keep prepared, instead of a new statement
   * prepared (and closed) for each batch size; at most a quarter of the rows, an eighth on
   * average, are repeats.
   */
  public static int rowShape(int n, int max) {
    if (n < 1 || n > max) {
      throw new IllegalArgumentException("1 to " + max + " rows, not " + n);
    }
    int step = Append.logInsertStep(n);
    return Math.min(max, (n + step - 1) / step * step);
  }

  /**
   * The number of values an IN (...) list for {@code n} ids is prepared with (the rest repeat
   * the last id, which changes nothing): the next power of two, at most {@code max}.
   */
  public static int listShape(int n, int max) {
    if (n < 1 || n > max) {
      throw new IllegalArgumentException("1 to " + max + " values, not " + n);
    }
    return n == 1 ? 1 : Math.min(max, Integer.highestOneBit(n - 1) << 1);
  }

  /** {@code ?, ?, ...}: only placeholders are generated, the values are always bound. */
  static String placeholders(int n) {
    if (n < 1) {
      throw new IllegalArgumentException("at least one value is needed");
    }
    return "?" + ",?".repeat(n - 1);
  }

  // ---- cluster-wide token secret ----

  public static final String INSERT_SECRET_IF_ABSENT =
      "INSERT IGNORE INTO cluster_secret (name, secret) VALUES (?, ?)";

  public static final String SELECT_SECRET =
      "SELECT secret FROM cluster_secret WHERE name = ?";
}
