package chat.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import chat.node.TestDatabase.FreshDatabase;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Protocol v1.1 message guarantees on two clustered nodes with the real store: bursts,
 * acknowledged pages, crashes before reading, senders racing a user who comes and goes,
 * registrations under load.
 */
@ExtendWith(TestDatabase.Extension.class)
@Timeout(300)
class DeliveryGuaranteesTest {

  private static final Logger LOG = LoggerFactory.getLogger(DeliveryGuaranteesTest.class);

  private static TestNodes nodes;
  private static ChatNode first;
  private static ChatNode second;
  private static String dbUrl;

  @BeforeAll
  static void start(FreshDatabase database) {
    dbUrl = database.url();
    nodes = new TestNodes(database.url(), Map.of("CHAT_RATE_LIMIT", "1000"));
    first = nodes.start();
    second = nodes.start();
  }

  @AfterAll
  static void stop() {
    nodes.close();
  }

  private static JsonObject chat(int to, String text, Object seq) {
    return new JsonObject().put("msgid", 6).put("toid", to).put("msg", text).put("seq", seq);
  }

  @Test
  void aBurstOfTenThousandChatsFromAReadingClientIsAnsweredChatByChatAndNeverCutOff() {
    int count = 10_000;
    try (TcpTestClient sender = TcpTestClient.classic(first.tcpPort());
         TcpTestClient receiver = TcpTestClient.classic(second.tcpPort())) {
      int senderId = sender.register(TestNodes.unique("burst"), "pw");
      int receiverId = receiver.register(TestNodes.unique("reader"), "pw");
      sender.loginOk(senderId, "pw");
      receiver.loginOk(receiverId, "pw");
      StringBuilder burst = new StringBuilder();
      for (int i = 0; i < count; i++) {
        burst.append(chat(receiverId, String.valueOf(i), i).encode()).append('\0');
      }
      sender.sendRaw(burst.toString().getBytes(StandardCharsets.UTF_8));
      List<Integer> acked = new ArrayList<>();
      int limited = 0;
      for (int i = 0; i < count; i++) {
        JsonObject reply = sender.expect(m -> m.getInteger("msgid") == 105
            || m.getInteger("msgid") == 104, "an answer to chat " + i, Duration.ofSeconds(30));
        if (reply.getInteger("msgid") == 105) {
          acked.add(reply.getInteger("seq"));
        } else {
          assertEquals(429, reply.getInteger("errno"), reply.encode());
          limited++;
        }
      }
      assertFalse(sender.awaitClosed(Duration.ofMillis(10)), "the reading sender stays connected");
      List<Integer> delivered = new ArrayList<>();
      for (int i = 0; i < acked.size(); i++) {
        delivered.add(Integer.parseInt(receiver.expect(6).getString("msg")));
      }
      receiver.expectSilence(Duration.ofMillis(500));
      List<Integer> ackedAscending = new ArrayList<>(acked);
      ackedAscending.sort(null);
      // The deliveries are compared as they came: every ACKed chat once, in the order sent.
      assertEquals(ackedAscending, delivered);
      assertEquals(count, acked.size() + limited);
    }
  }

  @Test
  void storedMessagesComeInAcknowledgedPagesAndUnacknowledgedOnesComeAgain() {
    int total = 450;
    int receiverId;
    try (TcpTestClient sender = TcpTestClient.classic(first.tcpPort())) {
      int senderId = sender.register(TestNodes.unique("pager"), "pw");
      receiverId = sender.register(TestNodes.unique("away"), "pw");
      sender.loginOk(senderId, "pw");
      for (int i = 0; i < total; i++) {
        sender.send(chat(receiverId, String.valueOf(i), i));
      }
      for (int i = 0; i < total; i++) {
        assertEquals(0, sender.expect(105).getInteger("errno"));
      }
    }
    JsonObject ackMode = new JsonObject().put("msgid", 1).put("password", "pw")
        .put("offline", "ack").put("format", "structured");
    String secondPageFirst;
    try (TcpTestClient receiver = TcpTestClient.classic(second.tcpPort())) {
      receiver.send(ackMode.copy().put("id", receiverId));
      JsonObject ack = receiver.expect(2);
      assertTrue(ack.getBoolean("offline_more"));
      JsonArray page = ack.getJsonArray("offlinemsg");
      assertEquals(200, page.size());
      for (int i = 0; i < 200; i++) {
        assertEquals(String.valueOf(i), page.getJsonObject(i).getString("msg"));
      }
      receiver.send(new JsonObject().put("msgid", 109)
          .put("upto", page.getJsonObject(199).getString("msgno")).put("seq", "p2"));
      JsonObject next = receiver.expect(105);
      assertEquals(109, next.getInteger("ref"));
      assertTrue(next.getBoolean("offline_more"));
      secondPageFirst = next.getJsonArray("offlinemsg").getJsonObject(0).getString("msgno");
      assertEquals("200", next.getJsonArray("offlinemsg").getJsonObject(0).getString("msg"));
      receiver.abort();
    }
    try (TcpTestClient receiver = TcpTestClient.classic(first.tcpPort())) {
      receiver.send(ackMode.copy().put("id", receiverId));
      JsonArray page = receiver.expect(2).getJsonArray("offlinemsg");
      assertEquals(secondPageFirst, page.getJsonObject(0).getString("msgno"), "the same msgno again");
      receiver.send(new JsonObject().put("msgid", 109)
          .put("upto", page.getJsonObject(199).getString("msgno")));
      JsonObject last = receiver.expect(105);
      assertFalse(last.getBoolean("offline_more"));
      JsonArray rest = last.getJsonArray("offlinemsg");
      assertEquals(50, rest.size());
      assertEquals("449", rest.getJsonObject(49).getString("msg"));
      receiver.send(new JsonObject().put("msgid", 109).put("upto", "no-such-msgno"));
      assertEquals(404, receiver.expect(104).getInteger("errno"));
      receiver.send(new JsonObject().put("msgid", 109)
          .put("upto", rest.getJsonObject(49).getString("msgno")));
      assertEquals(0, receiver.expect(105).getJsonArray("offlinemsg").size());
    }
  }

  @Test
  void aClientThatDiesBeforeReadingItsClassicLoginAckLosesNothing() throws Exception {
    int receiverId;
    try (TcpTestClient sender = TcpTestClient.classic(first.tcpPort())) {
      int senderId = sender.register(TestNodes.unique("before"), "pw");
      receiverId = sender.register(TestNodes.unique("crasher"), "pw");
      sender.loginOk(senderId, "pw");
      for (int i = 0; i < 30; i++) {
        sender.send(chat(receiverId, String.valueOf(i), i));
        sender.expect(105);
      }
    }
    try (Socket raw = new Socket()) {
      raw.connect(new InetSocketAddress("127.0.0.1", second.tcpPort()));
      OutputStream out = raw.getOutputStream();
      out.write(("{\"msgid\":1,\"id\":" + receiverId + ",\"password\":\"pw\"}\0")
          .getBytes(StandardCharsets.UTF_8));
      out.flush();
      Eventually.within(Duration.ofSeconds(5),
          () -> assertEquals("online", new Db(dbUrl).state(receiverId)));
      Thread.sleep(300);
      raw.setSoLinger(true, 0);
    }
    Thread.sleep(1500);
    try (TcpTestClient receiver = TcpTestClient.classic(first.tcpPort())) {
      JsonArray offline = receiver.loginOk(receiverId, "pw").getJsonArray("offlinemsg");
      assertEquals(30, offline.size(), "nothing lost");
      for (int i = 0; i < 30; i++) {
        assertEquals(String.valueOf(i), new JsonObject(offline.getString(i)).getString("msg"));
      }
    }
  }

  @Test
  void manySendersToAUserWhoComesAndGoesAndCrashesEachArriveOnceInOrder() throws Exception {
    manySendersToAUserWhoComesAndGoes(600, Duration.ofDays(1));
  }

  /**
   * The same for minutes (chaos profile): 4 senders send until {@code -Ddelivery.soak.minutes}
   * (default 5) have passed, while the receiver logs in and out and crashes some hundreds of
   * times.
   */
  @Test
  @Tag("chaos")
  @Timeout(1800)
  void forMinutesManySendersToAUserWhoComesAndGoesAndCrashesEachArriveOnceInOrder()
      throws Exception {
    manySendersToAUserWhoComesAndGoes(Integer.MAX_VALUE,
        Duration.ofMinutes(Long.getLong("delivery.soak.minutes", 5)));
  }

  private void manySendersToAUserWhoComesAndGoes(int perSender, Duration sendingFor)
      throws Exception {
    int senders = 4;
    long startedAt = System.nanoTime();
    long stopSendingAt = startedAt + Math.min(sendingFor.toNanos(), Long.MAX_VALUE / 4);
    int receiverId;
    List<Integer> senderIds = new ArrayList<>();
    try (TcpTestClient setup = TcpTestClient.classic(first.tcpPort())) {
      receiverId = setup.register(TestNodes.unique("target"), "pw");
      for (int s = 0; s < senders; s++) {
        senderIds.add(setup.register(TestNodes.unique("s" + s), "pw"));
      }
    }
    Map<Integer, Set<Integer>> acked = new ConcurrentHashMap<>();
    // Live chats written to a socket just before its client dies are lost to that client (it
    // acknowledges only stored ones): before a crash the senders hold still, the receiver reads
    // until silence, and then it dies with stored pages given and not acknowledged.
    java.util.concurrent.atomic.AtomicBoolean hold = new java.util.concurrent.atomic.AtomicBoolean();
    java.util.concurrent.atomic.AtomicInteger holding = new java.util.concurrent.atomic.AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(senders);
    List<Future<?>> sending = new ArrayList<>();
    for (int s = 0; s < senders; s++) {
      int senderId = senderIds.get(s);
      int port = s % 2 == 0 ? first.tcpPort() : second.tcpPort();
      acked.put(senderId, ConcurrentHashMap.newKeySet());
      sending.add(pool.submit(() -> {
        try (TcpTestClient sender = TcpTestClient.classic(port)) {
          sender.loginOk(senderId, "pw");
          for (int i = 0; i <= perSender - 20 && System.nanoTime() < stopSendingAt; i += 20) {
            for (int j = i; j < i + 20; j++) {
              sender.send(chat(receiverId, senderId + ":" + j, j));
            }
            for (int j = i; j < i + 20; j++) {
              JsonObject reply = sender.expect(m -> m.getInteger("msgid") == 105
                  || m.getInteger("msgid") == 104, "answer", Duration.ofSeconds(30));
              if (reply.getInteger("msgid") == 105) {
                acked.get(senderId).add(reply.getInteger("seq"));
              }
            }
            Thread.sleep(ThreadLocalRandom.current().nextInt(30));
            if (hold.get()) {
              holding.incrementAndGet();
              while (hold.get()) {
                Thread.sleep(5);
              }
              holding.decrementAndGet();
            }
          }
        }
        return null;
      }));
    }
    // The receiver logs in (ack mode), reads a while, then logs out, closes or crashes.
    Map<String, JsonObject> firstSeen = new java.util.LinkedHashMap<>();
    JsonObject login = new JsonObject().put("msgid", 1).put("id", receiverId).put("password", "pw")
        .put("offline", "ack").put("format", "structured");
    int round = 0;
    while (!allDone(sending) || round < 3) {
      int port = round % 2 == 0 ? second.tcpPort() : first.tcpPort();
      try (TcpTestClient receiver = TcpTestClient.classic(port)) {
        receiver.send(login);
        JsonObject ack = receiver.expect(2);
        assertEquals(0, ack.getInteger("errno"));
        JsonArray page = ack.getJsonArray("offlinemsg");
        // 0: acknowledges every page, then logs out; 1: acknowledges nothing and dies;
        // 2: acknowledges nothing and logs out.
        int style = round % 3;
        while (style == 0 && !page.isEmpty()) {
          receiver.send(new JsonObject().put("msgid", 109)
              .put("upto", page.getJsonObject(page.size() - 1).getString("msgno")));
          page = receiver.expect(105).getJsonArray("offlinemsg");
        }
        long until = System.currentTimeMillis() + ThreadLocalRandom.current().nextInt(100, 600);
        while (System.currentTimeMillis() < until) {
          take(receiver, firstSeen, Duration.ofMillis(50));
        }
        if (style == 1) {
          hold.set(true);
          try {
          // Every running sender must be holding before the crash: one still in a burst would
          // have chats written to the dying socket, which the contract lets a crash lose.
          long quiet = System.currentTimeMillis() + 120_000;
          while (holding.get() < running(sending) && System.currentTimeMillis() < quiet) {
            take(receiver, firstSeen, Duration.ofMillis(20));
          }
          assertTrue(holding.get() >= running(sending), "the senders never held still");
          while (take(receiver, firstSeen, Duration.ofMillis(300))) {
            // until silence
          }
            collect(receiver.all(), firstSeen);
            receiver.abort();
          } finally {
            hold.set(false);
          }
        } else {
          // Out in order: everything written before the LOGINOUT's ACK was read.
          receiver.send(new JsonObject().put("msgid", 3).put("seq", "bye"));
          while (true) {
            JsonObject next = receiver.next();
            if (next.getInteger("msgid") == 105 && "bye".equals(next.getValue("seq"))) {
              break;
            }
          }
          collect(receiver.all(), firstSeen);
        }
      }
      round++;
    }
    for (Future<?> f : sending) {
      f.get(2, TimeUnit.MINUTES);
    }
    pool.shutdown();
    // Last login: everything left.
    Thread.sleep(500);
    try (TcpTestClient receiver = TcpTestClient.classic(first.tcpPort())) {
      receiver.send(login);
      JsonObject ack = receiver.expect(2);
      JsonArray page = ack.getJsonArray("offlinemsg");
      while (!page.isEmpty()) {
        receiver.send(new JsonObject().put("msgid", 109)
            .put("upto", page.getJsonObject(page.size() - 1).getString("msgno")));
        page = receiver.expect(105).getJsonArray("offlinemsg");
      }
      collect(receiver.all(), firstSeen);
    }
    // Per sender, the messages as first seen (dropping repeats by msgno, as the contract lets
    // a client do), compared without sorting.
    Map<Integer, List<Integer>> bySender = new HashMap<>();
    for (JsonObject m : firstSeen.values()) {
      String[] parts = m.getString("msg").split(":");
      bySender.computeIfAbsent(Integer.parseInt(parts[0]), k -> new ArrayList<>())
          .add(Integer.parseInt(parts[1]));
    }
    for (int senderId : senderIds) {
      List<Integer> expected = new ArrayList<>(new java.util.TreeSet<>(acked.get(senderId)));
      List<Integer> got = bySender.getOrDefault(senderId, List.of());
      List<Integer> gotAcked = got.stream().filter(acked.get(senderId)::contains).toList();
      assertEquals(expected, gotAcked, "sender " + senderId + ": every ACKed chat, once, in order");
      assertEquals(new LinkedHashSet<>(got).size(), got.size(), "no repeats");
    }
    LOG.info("measured: {} senders to a user who came and went {} times: {} ACKed,"
        + " each once and in order, in {} s", senders, round,
        acked.values().stream().mapToInt(Set::size).sum(),
        (System.nanoTime() - startedAt) / 1_000_000_000);
  }

  /**
   * The chats a connection got, in the order they arrived: stored ones in the LOGIN ack and
   * in OFFLINE_ACK answers, live ones as pushes. The first copy of each msgno counts.
   */
  private static void collect(List<JsonObject> all, Map<String, JsonObject> seen) {
    for (JsonObject m : all) {
      int msgid = m.getInteger("msgid");
      if (msgid == 6) {
        seen.putIfAbsent(m.getString("msgno"), m);
      } else if (msgid == 2 || (msgid == 105 && Integer.valueOf(109).equals(m.getInteger("ref")))) {
        for (Object stored : m.getJsonArray("offlinemsg", new JsonArray())) {
          seen.putIfAbsent(((JsonObject) stored).getString("msgno"), (JsonObject) stored);
        }
      }
    }
  }

  /** Reads one live chat if one comes within {@code wait}; false if none came. */
  private static boolean take(TcpTestClient receiver, Map<String, JsonObject> seen, Duration wait) {
    try {
      receiver.expect(m -> m.getInteger("msgid") == 6, "live", wait);
      return true;
    } catch (AssertionError e) {
      return false;
    }
  }

  private static long running(List<Future<?>> futures) {
    return futures.stream().filter(f -> !f.isDone()).count();
  }

  private static boolean allDone(List<Future<?>> futures) {
    return futures.stream().allMatch(Future::isDone);
  }

  @Test
  void threeHundredRegistrationsAtOnceOnTwoNodesAreEachCreatedOnceOrRefusedWith503()
      throws Exception {
    int count = 300;
    ExecutorService pool = Executors.newFixedThreadPool(count);
    String prefix = TestNodes.unique("crowd");
    List<Future<JsonObject>> answers = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      String name = prefix + "-" + i;
      int port = i % 2 == 0 ? first.tcpPort() : second.tcpPort();
      answers.add(pool.submit(() -> {
        try (TcpTestClient client = TcpTestClient.classic(port)) {
          client.send(new JsonObject().put("msgid", 4).put("name", name).put("password", "pw"));
          return client.expect(m -> m.getInteger("msgid") == 5 || m.getInteger("msgid") == 104,
              "an answer", Duration.ofSeconds(90)).put("name", name);
        }
      }));
    }
    int created = 0;
    int refused = 0;
    Db db = new Db(dbUrl);
    for (Future<JsonObject> answer : answers) {
      JsonObject reply = answer.get(2, TimeUnit.MINUTES);
      String name = reply.getString("name");
      String rows = db.one("SELECT COUNT(*) FROM user WHERE name = ?", name);
      if (reply.getInteger("msgid") == 5) {
        assertEquals(0, reply.getInteger("errno"), reply.encode());
        assertEquals("1", rows, name + " exists once");
        created++;
      } else {
        assertEquals(503, reply.getInteger("errno"), reply.encode());
        assertTrue(reply.getLong("retry_after_ms") > 0, reply.encode());
        assertEquals("0", rows, name + " was refused and does not exist");
        refused++;
      }
    }
    pool.shutdown();
    // Nothing created afterwards either.
    Thread.sleep(1000);
    assertEquals(String.valueOf(created),
        db.one("SELECT COUNT(*) FROM user WHERE name LIKE ?", prefix + "-%"));
    assertEquals(count, created + refused);
    assertTrue(created > 0);
  }
}
