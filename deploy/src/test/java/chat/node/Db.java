package chat.node;

import java.net.URI;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/** Reads the database directly, as an operator would, to check what the system wrote. */
final class Db {

  private final String url;

  Db(String url) {
    this.url = url;
  }

  /** The {@code state} column of a user: "online" or "offline". */
  String state(int userId) {
    return one("SELECT state FROM user WHERE id = ?", userId);
  }

  /** Ids of users the database shows online. */
  List<Integer> onlineUsers() {
    List<Integer> ids = new ArrayList<>();
    try (Connection c = connect();
         PreparedStatement s = c.prepareStatement("SELECT id FROM user WHERE state = 'online'");
         ResultSet rs = s.executeQuery()) {
      while (rs.next()) {
        ids.add(rs.getInt(1));
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
    return ids;
  }

  String one(String sql, Object... params) {
    try (Connection c = connect(); PreparedStatement s = c.prepareStatement(sql)) {
      for (int i = 0; i < params.length; i++) {
        s.setObject(i + 1, params[i]);
      }
      try (ResultSet rs = s.executeQuery()) {
        return rs.next() ? rs.getString(1) : null;
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Every row of a query, each as its columns' text joined by " | " (for diagnostics). */
  List<String> rows(String sql) {
    List<String> rows = new ArrayList<>();
    try (Connection c = connect(); PreparedStatement s = c.prepareStatement(sql);
         ResultSet rs = s.executeQuery()) {
      int columns = rs.getMetaData().getColumnCount();
      while (rs.next()) {
        StringBuilder row = new StringBuilder();
        for (int i = 1; i <= columns; i++) {
          row.append(i > 1 ? " | " : "").append(rs.getString(i));
        }
        rows.add(row.toString());
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
    return rows;
  }

  int update(String sql, Object... params) {
    try (Connection c = connect(); PreparedStatement s = c.prepareStatement(sql)) {
      for (int i = 0; i < params.length; i++) {
        s.setObject(i + 1, params[i]);
      }
      return s.executeUpdate();
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  private Connection connect() throws SQLException {
    return DriverManager.getConnection(jdbcUrl(url), user(url), password(url));
  }

  static String jdbcUrl(String mysqlUrl) {
    URI uri = URI.create(mysqlUrl);
    return "jdbc:mariadb://" + uri.getHost() + ":" + uri.getPort() + uri.getPath();
  }

  static String user(String mysqlUrl) {
    return URI.create(mysqlUrl).getUserInfo().split(":", 2)[0];
  }

  static String password(String mysqlUrl) {
    String[] info = URI.create(mysqlUrl).getUserInfo().split(":", 2);
    return info.length > 1 ? info[1] : "";
  }

  static String withDatabase(String mysqlUrl, String database) {
    URI uri = URI.create(mysqlUrl);
    return "mysql://" + uri.getRawUserInfo() + "@" + uri.getHost() + ":" + uri.getPort() + "/"
        + database;
  }
}
