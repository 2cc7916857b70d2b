package chat.user;

import static chat.protocol.bus.Addresses.USER_MESSAGE_APPEND;
import static chat.user.MessageStoreTest.ack;
import static chat.user.MessageStoreTest.chat;
import static chat.user.MessageStoreTest.item;
import static chat.user.MessageStoreTest.msgnos;
import static chat.user.MessageStoreTest.page;
import static chat.user.MessageStoreTest.result;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import chat.protocol.config.DbUrl;
import chat.user.repo.SchemaMigration;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Appends from several parallel writers to one user, while that user pages and acknowledges:
 * every message is read exactly once, none is acknowledged unread, in log order.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 120, timeUnit = TimeUnit.SECONDS)
class AppendRaceTest {

  @RegisterExtension
  static final TestDatabase DB = new TestDatabase();

  private static Vertx vertx;

  @BeforeAll
  static void deploy(Vertx v) {
    vertx = v;
    SchemaMigration.migrate(DB.url());
    // two instances, as a node runs them: appends really run side by side
    vertx.deployVerticle(() -> new UserVerticle(TestConfigs.forDatabase(DB.url())),
        new io.vertx.core.DeploymentOptions().setInstances(2)).await();
    MessageStoreTest.useBus(new BusClient(vertx));
  }

  private static int register() {
    return MessageStoreTest.register();
  }

  private static void awaitUntil(java.util.function.BooleanSupplier condition, String what)
      throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!condition.getAsBoolean()) {
      assertTrue(System.nanoTime() < deadline, "timed out waiting for " + what);
      Thread.sleep(10);
    }
  }

  /**
   * The classic bug: a message with a lower log id that commits after a higher one. Append A
   * (two messages for bob) is held up after its first message got its id, by a transaction
   * that holds the second one's msgno; append B (for bob) comes later. B must not become
   * readable before A, or a reader would take B, acknowledge it, and see A's first message
   * out of order. Everything is observed through SQL any MySQL or MariaDB answers (no lock
   * tables): A's progress by a dirty read, B's wait by its answer not coming while A is held,
   * the order by what bob reads and by the log ids.
   */
  @Test
  void aLaterAppendForTheSameUserWaitsForAnEarlierOne() throws Exception {
    int alice = register();
    int bob = register();
    DbUrl url = DbUrl.parse(DB.url());
    JsonObject a1 = chat(alice, bob, "A1");
    JsonObject a2 = chat(alice, bob, "A2");
    JsonObject b = chat(alice, bob, "B");
    try (java.sql.Connection holder = connect(url);
         java.sql.Connection probe = connect(url)) {
      holder.setAutoCommit(false);
      try (var st = holder.prepareStatement("INSERT INTO message (msgno, conv, sender,"
          + " created_at, body) VALUES (?, 'u:0:0', 0, 0, '{}')")) {
        st.setString(1, a2.getString("msgno"));
        st.executeUpdate();
      }
      Future<Object> first = vertx.eventBus().request(USER_MESSAGE_APPEND, new JsonObject()
          .put("messages", new JsonArray().add(item(a1, List.of(bob), List.of()))
              .add(item(a2, List.of(bob), List.of()))))
          .map(m -> m.body());
      // A has logged its first message (not committed: seen by a dirty read) and waits for
      // the held msgno of its second.
      try (var dirty = probe.createStatement()) {
        dirty.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ UNCOMMITTED");
      }
      awaitUntil(() -> logged(probe, a1.getString("msgno")), "A to log its first message");
      Future<Object> second = vertx.eventBus().request(USER_MESSAGE_APPEND, new JsonObject()
          .put("messages", new JsonArray().add(item(b, List.of(bob), List.of()))))
          .map(m -> m.body());
      // B for the same user must wait for A: its answer does not come while A is held. (A
      // bound for something that must not happen: B alone takes a few milliseconds.)
      long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1_500);
      while (!second.isComplete() && System.nanoTime() < until) {
        Thread.sleep(10);
      }
      assertTrue(!second.isComplete(), "B for the same user completed while A was held: "
          + second.result());
      assertEquals(List.of(), msgnos(page(bob, 10)), "nothing readable while A is held");
      // an append in flight never holds up the presence service's state write
      try (java.sql.Connection presence = connect(url);
          var timeout = presence.createStatement();
          var update = presence.prepareStatement("UPDATE user SET state = 'online',"
              + " state_version = state_version + 1 WHERE id = ?")) {
        timeout.execute("SET SESSION innodb_lock_wait_timeout = 3");
        update.setInt(1, bob);
        assertEquals(1, update.executeUpdate());
      }
      holder.rollback();
      first.await();
      second.await();
      List<String> order = List.of(a1.getString("msgno"), a2.getString("msgno"),
          b.getString("msgno"));
      assertEquals(order, msgnos(page(bob, 10)), "read in the order appended");
      List<Long> ids = new ArrayList<>();
      for (String msgno : order) {
        ids.add(((Number) DB.queryValue("SELECT id FROM message WHERE msgno = ?", msgno))
            .longValue());
      }
      assertTrue(ids.get(0) < ids.get(1) && ids.get(1) < ids.get(2),
          "log ids in the order appended: " + ids);
    }
  }

  private static java.sql.Connection connect(DbUrl url) throws Exception {
    return java.sql.DriverManager.getConnection(url.jdbcUrl(), url.user(), url.password());
  }

  /** Whether the message is in the log, committed or not (on a READ UNCOMMITTED connection). */
  private static boolean logged(java.sql.Connection dirty, String msgno) {
    try (var st = dirty.prepareStatement("SELECT COUNT(*) FROM message WHERE msgno = ?")) {
      st.setString(1, msgno);
      try (var rows = st.executeQuery()) {
        return rows.next() && rows.getLong(1) > 0;
      }
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  private static long pendingRows(int userId) throws Exception {
    return ((Number) DB.queryValue(
        "SELECT COUNT(*) FROM mailbox WHERE userid = ? AND pending = 1", userId)).longValue();
  }

  @Test
  void concurrentAppendsAreDeliveredExactlyOnceInLogOrder() throws Exception {
    int bob = register();
    int writers = 8;
    int callsPerWriter = 30;
    int perCall = 3;
    List<Integer> senders = new ArrayList<>();
    for (int w = 0; w < writers; w++) {
      senders.add(register());
    }
    // every writer sends its calls one after the other (like a node's writer), the writers
    // in parallel with each other and with a reader that pages and acknowledges
    List<Future<Void>> writing = new ArrayList<>();
    Map<Integer, List<String>> sentBy = new HashMap<>();
    for (int w = 0; w < writers; w++) {
      int sender = senders.get(w);
      List<String> sent = new ArrayList<>();
      sentBy.put(sender, sent);
      Future<Void> chain = Future.succeededFuture();
      for (int c = 0; c < callsPerWriter; c++) {
        JsonArray items = new JsonArray();
        for (int i = 0; i < perCall; i++) {
          JsonObject m = chat(sender, bob, sender + ":" + c + ":" + i);
          sent.add(m.getString("msgno"));
          items.add(item(m, List.of(bob), List.of()));
        }
        JsonObject request = new JsonObject().put("messages", items);
        chain = chain.compose(v -> vertx.eventBus().<JsonObject>request(USER_MESSAGE_APPEND,
            request).map(reply -> {
              for (Object r : reply.body().getJsonArray("results")) {
                assertEquals(result(List.of(bob), List.of(), List.of()), r);
              }
              return null;
            }));
      }
      writing.add(chain);
    }
    Future<?> allWritten = Future.all(writing);

    List<String> received = new ArrayList<>();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(100);
    while (true) {
      boolean writersDone = allWritten.isComplete();
      JsonObject page = page(bob, 7);
      List<String> got = msgnos(page);
      received.addAll(got);
      if (!got.isEmpty()) {
        assertEquals(got.size(), ack(bob, got));
      } else if (writersDone) {
        break;
      }
      assertTrue(System.nanoTime() < deadline, "reader did not finish");
    }
    assertTrue(allWritten.succeeded(), () -> String.valueOf(allWritten.cause()));

    int total = writers * callsPerWriter * perCall;
    assertEquals(total, received.size(), "each delivered exactly once");
    assertEquals(total, new HashSet<>(received).size(), "no duplicates");
    Set<String> sentAll = new HashSet<>();
    sentBy.values().forEach(sentAll::addAll);
    assertEquals(sentAll, new HashSet<>(received), "nothing lost");
    // the order read is the log order, and so each sender's order
    Map<String, Long> logId = new HashMap<>();
    for (String msgno : received) {
      logId.put(msgno, ((Number) DB.queryValue("SELECT id FROM message WHERE msgno = ?", msgno))
          .longValue());
    }
    for (int i = 1; i < received.size(); i++) {
      assertTrue(logId.get(received.get(i - 1)) < logId.get(received.get(i)),
          "read out of log order at " + i);
    }
    for (List<String> sent : sentBy.values()) {
      List<String> inReadOrder = new ArrayList<>(received);
      inReadOrder.retainAll(sent);
      assertEquals(sent, inReadOrder, "per-sender order");
    }
    assertEquals(0L, pendingRows(bob));
    assertEquals((long) total, ((Number) DB.queryValue(
        "SELECT COUNT(*) FROM mailbox WHERE userid = ? AND pending = 0", bob)).longValue());
  }

}
