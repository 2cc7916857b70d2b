package chat.user;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

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
    assertEquals(3, applied.intValue());
  }

  @Test
  void createsTheDatabaseWhenMissing() {
    String url = DB.urlOfNewDatabase();
    SchemaMigration.migrate(url);
    SchemaMigration.migrate(url);
  }

  @Test
  void malformedUrlIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> SchemaMigration.migrate("jdbc:foo"));
    assertThrows(IllegalArgumentException.class,
        () -> SchemaMigration.migrate("mysql://u:p@127.0.0.1:3306/"));
  }

  @Test
  void presenceServiceUpdateFitsTheSchema() throws Exception {
    DB.update("INSERT INTO `user` (name, password) VALUES (?, ?)", "presence-probe", "x");
    Object id = DB.queryValue("SELECT id FROM `user` WHERE name = ?", "presence-probe");
    String update = "UPDATE user SET state=?, state_version=? WHERE id=? AND state_version < ?";
    assertEquals(1, DB.update(update, "online", 5L, id, 5L));
    assertEquals(0, DB.update(update, "offline", 4L, id, 4L), "older versions lose");
    assertEquals("online", DB.queryValue("SELECT state FROM `user` WHERE id = ?", id));
    assertEquals(1, DB.update(update, "offline", 6L, id, 6L));
    assertEquals("offline", DB.queryValue("SELECT state FROM `user` WHERE id = ?", id));
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
