package chat.user;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import chat.protocol.config.DbUrl;
import chat.user.repo.SchemaMigration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The Flyway migration: idempotent, creates a missing database, columns others rely on. */
class SchemaMigrationTest {

  @RegisterExtension
  static final TestDatabase DB = new TestDatabase();

  @BeforeAll
  static void migrate() {
    SchemaMigration.migrate(DB.url());
  }

  @Test
  void migratingAgainChangesNothing() throws Exception {
    SchemaMigration.migrate(DB.url());
    Number applied = (Number) DB.queryValue(
        "SELECT COUNT(*) FROM flyway_schema_history WHERE success = 1 AND version IS NOT NULL");
    assertEquals(4, applied.intValue(), "V1 to V4");
  }

  @Test
  void createsTheDatabaseWhenMissing() throws Exception {
    String url = DB.urlOfNewDatabase();
    String database = DbUrl.parse(url).database();
    assertEquals(0, count("SELECT COUNT(*) FROM information_schema.SCHEMATA"
        + " WHERE SCHEMA_NAME = ?", database));
    SchemaMigration.migrate(url);
    SchemaMigration.migrate(url);
    assertEquals(1, count("SELECT COUNT(*) FROM information_schema.SCHEMATA"
        + " WHERE SCHEMA_NAME = ?", database));
    assertEquals(1, count("SELECT COUNT(*) FROM information_schema.TABLES"
        + " WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'user'", database));
    assertEquals(4, count("SELECT COUNT(*) FROM `" + database + "`.flyway_schema_history"
        + " WHERE success = 1 AND version IS NOT NULL"), "applied once, not twice");
  }

  private static int count(String sql, Object... params) throws Exception {
    return ((Number) DB.queryValue(sql, params)).intValue();
  }

  @Test
  void malformedUrlIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> SchemaMigration.migrate("jdbc:foo"));
    assertThrows(IllegalArgumentException.class,
        () -> SchemaMigration.migrate("mysql://u:p@127.0.0.1:3306/"));
  }

  /**
   * A new account starts offline at version 0 (the columns were created here before presence
   * owned them; presence's own migrations and tests cover what it writes into them).
   */
  @Test
  void aNewUserStartsOfflineAtVersionZero() throws Exception {
    DB.update("INSERT INTO `user` (name, password) VALUES (?, ?)", "new-user", "x");
    assertEquals("offline", DB.queryValue("SELECT state FROM `user` WHERE name = ?", "new-user"));
    assertEquals(0, count("SELECT state_version FROM `user` WHERE name = ?", "new-user"));
  }

  @Test
  void textColumnsAreUtf8mb4() throws Exception {
    String sql = "SELECT CHARACTER_SET_NAME FROM information_schema.COLUMNS"
        + " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND COLUMN_NAME = ?";
    assertEquals("utf8mb4", DB.queryValue(sql, "user", "name"));
    assertEquals("utf8mb4", DB.queryValue(sql, "allgroup", "groupname"));
    assertEquals("utf8mb4", DB.queryValue(sql, "allgroup", "groupdesc"));
    assertEquals("utf8mb4", DB.queryValue(sql, "message", "body"));
    assertEquals("mediumtext", DB.queryValue(
        "SELECT DATA_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()"
            + " AND TABLE_NAME = 'message' AND COLUMN_NAME = 'body'"));
  }
}
