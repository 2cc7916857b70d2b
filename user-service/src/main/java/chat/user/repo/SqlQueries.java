package chat.user.repo;

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

  public static final String SELECT_FRIENDS =
      "SELECT u.id, u.name FROM friend f JOIN `user` u ON u.id = f.friendid"
          + " WHERE f.userid = ? ORDER BY u.id";

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

  // ---- offline messages ----

  public static final String INSERT_OFFLINE_MESSAGE =
      "INSERT INTO offlinemessage (userid, message) VALUES (?, ?)";

  public static final String SELECT_OFFLINE_MESSAGES =
      "SELECT no, message FROM offlinemessage WHERE userid = ? ORDER BY no";

  public static final String DELETE_OFFLINE_MESSAGES =
      "DELETE FROM offlinemessage WHERE userid = ? AND no <= ?";

  // ---- cluster-wide token secret ----

  public static final String INSERT_SECRET_IF_ABSENT =
      "INSERT IGNORE INTO cluster_secret (name, secret) VALUES (?, ?)";

  public static final String SELECT_SECRET =
      "SELECT secret FROM cluster_secret WHERE name = ?";
}
