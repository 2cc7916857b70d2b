package chat.presence.schema;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.flywaydb.core.api.migration.BaseJavaMigration;
import org.flywaydb.core.api.migration.Context;

/**
 * The mirror of the online map in {@code user}: {@code state} and {@code state_version}, added
 * where missing. Databases migrated before presence had its own history already have both
 * (user-service's V1 created them, and an applied migration cannot change); there this
 * migration changes nothing. A Java migration because "add a column unless it exists" has no
 * statement that both MySQL and MariaDB accept.
 */
public class V1__User_state_columns extends BaseJavaMigration {

  static final String STATE = "ADD COLUMN state ENUM('online', 'offline') NOT NULL"
      + " DEFAULT 'offline' COMMENT 'mirror of the presence map, written by the presence service'";
  static final String STATE_VERSION = "ADD COLUMN state_version BIGINT NOT NULL DEFAULT 0"
      + " COMMENT 'version of the last presence transition written (presence service)'";

  @Override
  public void migrate(Context context) throws SQLException {
    Connection connection = context.getConnection();
    Set<String> columns = userColumns(connection);
    if (columns.isEmpty()) {
      throw new SQLException("table `user` not found: user-service's migration creates it and"
          + " must run before presence's");
    }
    List<String> missing = new ArrayList<>();
    if (!columns.contains("state")) {
      missing.add(STATE);
    }
    if (!columns.contains("state_version")) {
      missing.add(STATE_VERSION);
    }
    if (!missing.isEmpty()) {
      try (Statement alter = connection.createStatement()) {
        alter.execute("ALTER TABLE `user` " + String.join(", ", missing));
      }
    }
  }

  private static Set<String> userColumns(Connection connection) throws SQLException {
    Set<String> columns = new HashSet<>();
    try (Statement query = connection.createStatement();
         ResultSet rows = query.executeQuery("SELECT COLUMN_NAME FROM information_schema.COLUMNS"
             + " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'user'")) {
      while (rows.next()) {
        columns.add(rows.getString(1).toLowerCase(java.util.Locale.ROOT));
      }
    }
    return columns;
  }
}
