package chat.node;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.slf4j.LoggerFactory;

/**
 * The database the tests run on: the server named by {@code CHAT_TEST_DB_URL} (a
 * {@code mysql://} URL whose user may create databases), or else an embedded MariaDB started
 * once for the whole test run. Each caller of {@link #freshDatabase} gets a new, empty
 * database, so test classes never share state.
 */
final class TestDatabase implements ExtensionContext.Store.CloseableResource {

  /** A JUnit extension giving each test class (or method) that asks a fresh database. */
  static final class Extension implements ParameterResolver {

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
      return parameter.getParameter().getType() == FreshDatabase.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
      return new FreshDatabase(get(context).freshDatabase());
    }
  }

  /** The mysql:// URL of an empty database made for one test class. */
  record FreshDatabase(String url) {
  }

  private static TestDatabase instance;

  private final EmbeddedDatabase embedded;
  /** The embedded server's files (its data and unpacked binaries), deleted once it stopped. */
  private final Path embeddedDir;
  private final String serverUrl;

  private TestDatabase(EmbeddedDatabase embedded, Path embeddedDir, String serverUrl) {
    this.embedded = embedded;
    this.embeddedDir = embeddedDir;
    this.serverUrl = serverUrl;
  }

  /** The shared server, started on first use and stopped at the end of the run. */
  static synchronized TestDatabase get(ExtensionContext context) {
    if (instance == null) {
      instance = start();
      context.getRoot().getStore(ExtensionContext.Namespace.GLOBAL)
          .put(TestDatabase.class.getName(), instance);
    }
    return instance;
  }

  private static TestDatabase start() {
    String external = System.getenv("CHAT_TEST_DB_URL");
    if (external != null && !external.isBlank()) {
      return new TestDatabase(null, null, external);
    }
    try {
      Path dir = Files.createTempDirectory("chat-test-db");
      EmbeddedDatabase db = EmbeddedDatabase.start(dir, 0);
      return new TestDatabase(db, dir, db.url());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * The shared server for tests outside JUnit Jupiter (jqwik properties): started on first
   * use, stopped when the JVM exits if no Jupiter test stopped it before.
   */
  static synchronized TestDatabase shared() {
    if (instance == null) {
      instance = start();
      TestDatabase started = instance;
      Runtime.getRuntime().addShutdownHook(new Thread(started::close));
    }
    return instance;
  }

  /** Creates an empty database and returns its mysql:// URL. */
  String freshDatabase() {
    String name = "chat_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    try (Connection c = DriverManager.getConnection(Db.jdbcUrl(serverUrl), Db.user(serverUrl),
        Db.password(serverUrl)); Statement s = c.createStatement()) {
      s.execute("CREATE DATABASE " + name + " CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci");
    } catch (SQLException e) {
      throw new IllegalStateException("cannot create test database", e);
    }
    return Db.withDatabase(serverUrl, name);
  }

  @Override
  public void close() {
    synchronized (TestDatabase.class) {
      if (embedded != null) {
        embedded.close();
        deleteTree(embeddedDir);
      }
      instance = null;
    }
  }

  /** Each test run's server takes some 600 MB under the temporary directory: none stays. */
  private static void deleteTree(Path root) {
    try {
      Files.walkFileTree(root, new SimpleFileVisitor<>() {
        @Override
        public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
          Files.delete(file);
          return FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
          Files.delete(dir);
          return FileVisitResult.CONTINUE;
        }
      });
    } catch (IOException e) {
      LoggerFactory.getLogger(TestDatabase.class).warn("Could not delete {}: {}", root, e.toString());
    }
  }
}
