package chat.node;

import java.lang.reflect.Method;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded MariaDB a node runs when no CHAT_DB_URL is given. Its code and binaries are
 * in the jar only when built with the default {@code embedded-db} profile, so it is looked up
 * by name; a production image built without it needs CHAT_DB_URL.
 */
final class EmbeddedDatabase implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedDatabase.class);
  private static final String IMPLEMENTATION = "chat.node.db.EmbeddedMariaDb";
  /**
   * How long the server outlives the start of the JVM's exit unless the node closes it first:
   * a node stopping on SIGTERM drains (its users' offline rows are written) and only then
   * closes the database; the drain is bounded well within this.
   */
  private static final long EXIT_GRACE_MS = 60_000;

  private final AutoCloseable server;
  private final String url;

  private EmbeddedDatabase(AutoCloseable server, String url) {
    this.server = server;
    this.url = url;
  }

  static EmbeddedDatabase start(Path dataDir, int port) {
    Class<?> type;
    try {
      type = Class.forName(IMPLEMENTATION);
    } catch (ClassNotFoundException e) {
      throw new IllegalStateException("CHAT_DB_URL is not set and this build has no embedded "
          + "database (built without the embedded-db profile)");
    }
    try {
      Method start = type.getMethod("start", Path.class, int.class, long.class);
      AutoCloseable server = (AutoCloseable) start.invoke(null, dataDir, port, EXIT_GRACE_MS);
      String url = (String) type.getMethod("url").invoke(server);
      LOG.info("embedded MariaDB started, data in {}", dataDir.toAbsolutePath());
      return new EmbeddedDatabase(server, url);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("embedded database failed to start", e.getCause());
    }
  }

  String url() {
    return url;
  }

  @Override
  public void close() {
    try {
      server.close();
    } catch (Exception e) {
      LOG.warn("embedded database did not stop cleanly: {}", e.getMessage());
    }
  }
}
