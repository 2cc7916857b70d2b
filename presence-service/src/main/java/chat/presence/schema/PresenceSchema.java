package chat.presence.schema;

import chat.protocol.config.DbUrl;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies presence-service's own migrations: the columns of {@code user} that presence writes
 * ({@code state}, {@code state_version}). They live in this package (Java migrations, and SQL
 * ones under the same path in resources) and keep their history in
 * {@value #HISTORY_TABLE}, apart from user-service's {@code flyway_schema_history}.
 *
 * <p>The {@code user} table itself is user-service's: its migration runs first. On a database
 * without presence history (every database, the first time: user-service's tables are already
 * there) the history starts at version 0, so V1 still runs; V1 adds only the columns that are
 * missing, which makes it safe both on a fresh database and on one whose columns were created
 * by user-service's first migration before presence owned them.
 *
 * <p>Blocking: call it off the event loop. Nodes starting together are safe: Flyway serialises
 * concurrent migrations with a database lock.
 */
public final class PresenceSchema {

  /** Presence's schema history table. */
  public static final String HISTORY_TABLE = "flyway_presence_history";

  private static final Logger LOG = LoggerFactory.getLogger(PresenceSchema.class);

  private PresenceSchema() {
  }

  /**
   * Migrates the database named by {@code dbUrl}.
   *
   * @throws IllegalArgumentException when the URL is malformed or names no database
   * @throws org.flywaydb.core.api.FlywayException when the database cannot be reached, the
   *     {@code user} table is missing, or a migration fails
   */
  public static void migrate(String dbUrl) {
    DbUrl url = DbUrl.parse(dbUrl);
    if (url.database().isEmpty()) {
      throw new IllegalArgumentException("the database URL names no database");
    }
    long started = System.nanoTime();
    MigrateResult result = Flyway.configure(PresenceSchema.class.getClassLoader())
        .dataSource(url.jdbcUrl(), url.user(), url.password())
        .locations("classpath:chat/presence/schema")
        .table(HISTORY_TABLE)
        .baselineOnMigrate(true)
        .baselineVersion("0")
        .baselineDescription("presence-service history starts")
        .connectRetries(0)
        .load()
        .migrate();
    LOG.info("Presence columns of {} at version {} ({} migration(s) applied in {} ms)",
        url, result.targetSchemaVersion == null ? result.initialSchemaVersion
            : result.targetSchemaVersion,
        result.migrationsExecuted, (System.nanoTime() - started) / 1_000_000);
  }
}
