package chat.presence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import chat.presence.schema.PresenceSchema;
import io.vertx.sqlclient.Row;
import java.util.ArrayList;
import java.util.List;
import org.flywaydb.core.api.FlywayException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Presence's own migrations, with their own history, on the databases they meet: one where
 * user-service just created its {@code user} table (the columns presence writes are added),
 * and one migrated before presence had migrations (the columns exist, created by
 * user-service's first migration, with live data that must stay).
 */
@Timeout(120)
class PresenceSchemaTest {

  private TestCluster cluster;

  @BeforeEach
  void database() {
    cluster = new TestCluster(0);
    // start each test from a database presence has never migrated
    sql("DROP TABLE user");
    sql("DROP TABLE " + PresenceSchema.HISTORY_TABLE);
  }

  @AfterEach
  void close() {
    cluster.close();
  }

  private void sql(String statement) {
    cluster.db.query(statement).execute().await();
  }

  private List<String> history() {
    List<String> rows = new ArrayList<>();
    for (Row row : cluster.db.query("SELECT version, success FROM " + PresenceSchema.HISTORY_TABLE
        + " ORDER BY installed_rank").execute().await()) {
      rows.add(row.getString(0) + (row.getBoolean(1) ? "" : " failed"));
    }
    return rows;
  }

  @Test
  void onAUserTableWithoutTheColumnsTheyAreAddedWithTheirDefaults() {
    sql("CREATE TABLE user (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, name VARCHAR(64) NOT NULL)");
    sql("INSERT INTO user (name) VALUES ('li si')");

    PresenceSchema.migrate(cluster.dbUrl);

    Row row = cluster.db.query("SELECT state, state_version FROM user").execute().await()
        .iterator().next();
    assertEquals("offline", row.getString(0));
    assertEquals(0L, row.getLong(1));
    assertEquals(List.of("0", "1"), history());
    int id = cluster.addUser("online", 3);
    assertEquals("online@3", cluster.row(id));
  }

  @Test
  void onADatabaseMigratedBeforePresenceOwnedTheColumnsNothingChanges() {
    // the table as user-service's V1 creates it, with its own history beside it
    sql("CREATE TABLE user (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,"
        + " name VARCHAR(64) NOT NULL, password VARCHAR(255) NOT NULL DEFAULT '',"
        + " state ENUM('online', 'offline') NOT NULL DEFAULT 'offline',"
        + " state_version BIGINT NOT NULL DEFAULT 0)");
    sql("CREATE TABLE flyway_schema_history (installed_rank INT NOT NULL PRIMARY KEY)");
    int id = cluster.addUser("online", 7);

    PresenceSchema.migrate(cluster.dbUrl);

    assertEquals("online@7", cluster.row(id));
    assertEquals(List.of("0", "1"), history());
  }

  @Test
  void migratingAgainChangesNothing() {
    sql("CREATE TABLE user (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, name VARCHAR(64) NOT NULL)");
    PresenceSchema.migrate(cluster.dbUrl);
    int id = cluster.addUser("online", 2);

    PresenceSchema.migrate(cluster.dbUrl);

    assertEquals("online@2", cluster.row(id));
    assertEquals(List.of("0", "1"), history());
  }

  @Test
  void withoutUserServicesTableItRefusesToStartAndSaysWhy() {
    sql("CREATE TABLE something_else (id INT PRIMARY KEY)");
    FlywayException e = assertThrows(FlywayException.class,
        () -> PresenceSchema.migrate(cluster.dbUrl));
    assertTrue(String.valueOf(e.getMessage()).contains("user-service's migration"),
        e.getMessage());
  }
}
