package chat.protocol.config;

import io.vertx.core.json.JsonObject;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A database address of the form {@code mysql://user:pass@host:port/db} (CHAT_DB_URL): the one
 * parser every service reads it with, so a URL that starts one service starts them all.
 *
 * <ul>
 *   <li>The scheme is {@code mysql} or {@code mariadb}; the port defaults to 3306; the database
 *       may be omitted (empty) where none is needed; a {@code ?query} is ignored.</li>
 *   <li>The user name and the password may be percent-encoded ({@code %40} for {@code @},
 *       {@code %2F} for {@code /}, {@code %25} for {@code %}); a {@code +} is a plus sign, not a
 *       space; a {@code :} after the first one belongs to the password; an empty or missing
 *       password is the empty password.</li>
 * </ul>
 *
 * <p>It carries plain fields (and {@link #connectOptions()} as plain JSON): each service builds
 * its own client options from them.
 * {@link #toString()} hides the password.
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

  /**
   * Connect options as JSON, in the form the Vert.x MySQL client reads them
   * ({@code new MySQLConnectOptions(json)}): host, port, user, password, the database when
   * one is named, and the utf8mb4 character set so every character round-trips. Each service
   * adds its own client settings.
   */
  public JsonObject connectOptions() {
    JsonObject options = new JsonObject()
        .put("host", host)
        .put("port", port)
        .put("user", user)
        .put("password", password)
        .put("charset", "utf8mb4");
    if (!database.isEmpty()) {
      options.put("database", database);
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
