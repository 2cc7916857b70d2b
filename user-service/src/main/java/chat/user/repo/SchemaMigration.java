package chat.user.repo;

import chat.protocol.config.DbUrl;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.api.output.MigrateResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates or upgrades the tables of the user service with Flyway (scripts in
 * {@code db/migration}). Blocking: call it once at start-up, off the event loop, before the
 * verticles that use the database are deployed. Nodes starting together are safe: Flyway
 * serialises concurrent migrations with a database lock.
 */
public final class SchemaMigration {

  private static final Logger LOG = LoggerFactory.getLogger(SchemaMigration.class);

  private SchemaMigration() {
  }

  /**
   * Migrates the database named by {@code dbUrl} ({@code mysql://user:pass@host:port/db}),
   * creating the database first when it does not exist and the account may create it.
   *
   * @throws IllegalArgumentException when the URL is malformed or names no database
   * @throws org.flywaydb.core.api.FlywayException when the database cannot be reached or a
   *     script fails
   */
  public static void migrate(String dbUrl) {
    DbUrl url = DbUrl.parse(dbUrl);
    if (url.database().isEmpty()) {
      throw new IllegalArgumentException("the database URL names no database");
    }
    long started = System.nanoTime();
    createIfMissing(url);
    // Connected to the database itself: with no default database Flyway would try to restore
    // "no database" through a throw-away database, which an account limited to its own
    // database may not touch (a warning at every start).
    MigrateResult result = Flyway.configure(SchemaMigration.class.getClassLoader())
        .dataSource(url.jdbcUrl(), url.user(), url.password())
        .locations("classpath:db/migration")
        .connectRetries(0)
        .load()
        .migrate();
    LOG.info("Database {} at schema version {} ({} migration(s) applied in {} ms)",
        url, result.targetSchemaVersion == null ? result.initialSchemaVersion
            : result.targetSchemaVersion,
        result.migrationsExecuted, (System.nanoTime() - started) / 1_000_000);
  }

  /** Creates the database when it does not exist yet (the account needs CREATE rights then). */
  private static void createIfMissing(DbUrl url) {
    try (Connection server = DriverManager.getConnection(url.withDatabase("").jdbcUrl(),
            url.user(), url.password());
         PreparedStatement exists = server.prepareStatement(
             "SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?")) {
      exists.setString(1, url.database());
      try (ResultSet found = exists.executeQuery()) {
        if (found.next()) {
          return;
        }
      }
      try (Statement create = server.createStatement()) {
        create.execute("CREATE DATABASE IF NOT EXISTS `" + url.database().replace("`", "``") + "`");
      }
      LOG.info("Created database {}", url.database());
    } catch (SQLException e) {
      throw new FlywayException("cannot prepare database " + url.database() + ": " + e.getMessage(), e);
    }
  }
}
