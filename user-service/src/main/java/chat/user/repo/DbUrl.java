package chat.user.repo;

import io.vertx.mysqlclient.MySQLConnectOptions;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A database address of the form {@code mysql://user:pass@host:port/db}. The user name and
 * password may be percent-encoded; the port defaults to 3306; the database may be omitted
 * (empty) where none is needed. {@link #toString()} hides the password.
 */
public record DbUrl(String user, String password, String host, int port, String database) {

  public static final int DEFAULT_PORT = 3306;

  private static final Pattern FORM = Pattern.compile(
      "^(?:mysql|mariadb)://(?:([^:@/]*)(?::([^@/]*))?@)?([^:/@\\[\\]]+|\\[[0-9a-fA-F:.]+\\])"
          + "(?::(\\d{1,5}))?(?:/([^/?#]*))?(?:\\?.*)?$");

  public DbUrl {
    Objects.requireNonNull(user, "user");
    Objects.requireNonNull(password, "password");
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(database, "database");
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("database port out of range: " + port);
    }
  }

  /**
   * Parses {@code mysql://user:pass@host:port/db}.
   *
   * @throws IllegalArgumentException when the text is not of that form (the message never
   *     repeats the text, which may hold a password)
   */
  public static DbUrl parse(String url) {
    if (url == null) {
      throw new IllegalArgumentException("database URL missing");
    }
    Matcher m = FORM.matcher(url.trim());
    if (!m.matches()) {
      throw new IllegalArgumentException(
          "database URL must look like mysql://user:password@host:3306/database");
    }
    String host = m.group(3);
    if (host.startsWith("[")) {
      host = host.substring(1, host.length() - 1);
    }
    int port = m.group(4) == null ? DEFAULT_PORT : Integer.parseInt(m.group(4));
    return new DbUrl(decode(m.group(1)), decode(m.group(2)), host, port, decode(m.group(5)));
  }

  private static String decode(String part) {
    return part == null ? "" : URLDecoder.decode(part.replace("+", "%2B"), StandardCharsets.UTF_8);
  }

  /** The same server and account, another database. */
  public DbUrl withDatabase(String otherDatabase) {
    return new DbUrl(user, password, host, port, otherDatabase);
  }

  /** The JDBC form for the MariaDB driver; user and password are passed separately. */
  public String jdbcUrl() {
    String h = host.contains(":") ? "[" + host + "]" : host;
    return "jdbc:mariadb://" + h + ":" + port + "/" + database;
  }

  /** Connect options for the Vert.x MySQL client, with utf8mb4 so every character round-trips. */
  public MySQLConnectOptions connectOptions() {
    MySQLConnectOptions options = new MySQLConnectOptions()
        .setHost(host)
        .setPort(port)
        .setUser(user)
        .setPassword(password)
        .setCharset("utf8mb4")
        .setCachePreparedStatements(true)
        .setPreparedStatementCacheMaxSize(128);
    if (!database.isEmpty()) {
      options.setDatabase(database);
    }
    return options;
  }

  /** The full {@code mysql://} form, password included (percent-encoded where needed). */
  public String toUriString() {
    String h = host.contains(":") ? "[" + host + "]" : host;
    return "mysql://" + encode(user) + ":" + encode(password) + "@" + h + ":" + port + "/"
        + encode(database);
  }

  private static String encode(String part) {
    return URLEncoder.encode(part, StandardCharsets.UTF_8).replace("+", "%20");
  }

  @Override
  public String toString() {
    return "mysql://" + user + ":***@" + host + ":" + port + "/" + database;
  }
}
