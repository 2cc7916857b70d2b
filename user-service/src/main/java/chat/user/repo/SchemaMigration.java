package chat.user.repo;

import org.flywaydb.core.Flyway;
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
    MigrateResult result = Flyway.configure(SchemaMigration.class.getClassLoader())
        .dataSource(url.withDatabase("").jdbcUrl(), url.user(), url.password())
        .schemas(url.database())
        .createSchemas(true)
        .locations("classpath:db/migration")
        .connectRetries(0)
        .load()
        .migrate();
    LOG.info("Database {} at schema version {} ({} migration(s) applied in {} ms)",
        url, result.targetSchemaVersion == null ? result.initialSchemaVersion
            : result.targetSchemaVersion,
        result.migrationsExecuted, (System.nanoTime() - started) / 1_000_000);
  }
}
