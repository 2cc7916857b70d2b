package chat.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import chat.node.TestDatabase.FreshDatabase;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * HISTORY (110) end to end on two clustered nodes with the real store: one conversation seen
 * the same way by both sides, page by page, whether its messages were delivered live or
 * stored while one side was away; group history for members only; retention. A chat is in
 * history once it is ACKed (its sender's node logs it before delivering it), so history is
 * read right after the ACKs, without waiting for it to settle.
 */
@ExtendWith(TestDatabase.Extension.class)
@Timeout(300)
class HistoryTest {

  /** How long deliveries and stored messages may take on a loaded machine. */
  private static final Duration SETTLE = Duration.ofSeconds(60);
  private static final AtomicInteger SEQ = new AtomicInteger();

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

  @Test
  void twoUsersOnTwoNodesSeeTheSameFiveHundredMessagesInTheSameOrderOnceEach() {
    String aName = TestNodes.unique("hist-a");
    String bName = TestNodes.unique("hist-b");
    int aId;
    int bId;
    try (TcpTestClient setup = TcpTestClient.classic(first.tcpPort())) {
      aId = setup.register(aName, "pw");
      bId = setup.register(bName, "pw");
    }
    Conversation talk = new Conversation(aId, bId);

    TcpTestClient a = TcpTestClient.classic(first.tcpPort());
    TcpTestClient b = TcpTestClient.lines(second.tcpPort());
    a.loginOk(aId, "pw");
    b.loginOk(bId, "pw");

    // 1. both online: 50 each way, interleaved
    talk.both(a, b, 50);

    // 2. b logs out; a sends 100 that are stored; b comes back asking for acknowledged pages
    talk.collectLive(b, bId);
    logout(b);
    b.close();
    talk.send(a, bId, 100);
    b = TcpTestClient.lines(second.tcpPort());
    talk.receivedByB.addAll(loginAckMode(b, bId));

    // 3. both online again
    talk.both(a, b, 50);

    // 4. a disconnects without logging out; b sends 100 that are stored; a comes back classic
    talk.collectLive(a, aId);
    a.close();
    int away = aId;
    Eventually.within(SETTLE, () -> assertEquals("offline", new Db(dbUrl).state(away)));
    talk.send(b, aId, 100);
    a = TcpTestClient.classic(first.tcpPort());
    JsonArray offline = a.loginOk(aId, "pw").getJsonArray("offlinemsg");
    offline.forEach(text -> talk.receivedByA.add(new JsonObject((String) text)));

    // 5. both online to the end
    talk.both(a, b, 50);
    talk.collectLive(a, aId);
    talk.collectLive(b, bId);

    // Every message reached its recipient exactly once, in each sender's order.
    talk.assertDeliveredOnceInOrder();
    assertEquals(500, talk.delivered.size());

    TcpTestClient readerA = a;
    TcpTestClient readerB = b;
    List<JsonObject> historyOfA = new ArrayList<>();
    List<JsonObject> historyOfB = new ArrayList<>();
    historyOfA.addAll(pageBackwards(readerA, "with", bId, 37));
    assertEquals(500, historyOfA.size(), "history of a");
    historyOfB.addAll(pageBackwards(readerB, "with", aId, 200));
    assertEquals(500, historyOfB.size(), "history of b");
    assertEquals(historyOfA, historyOfB, "both sides see one order");

    Set<String> seen = new HashSet<>();
    for (JsonObject message : historyOfA) {
      String msgno = message.getString("msgno");
      assertTrue(seen.add(msgno), () -> "twice in history: " + message);
      assertEquals(talk.delivered.get(msgno), message, "as delivered");
      assertEquals(Set.of("msgid", "id", "name", "toid", "msg", "time", "msgno"),
          message.fieldNames());
      assertEquals(message.getInteger("id") == aId ? aName : bName, message.getString("name"));
    }
    assertEquals(talk.delivered.keySet(), seen, "every delivered message, nothing else");
    // Each sender's order in history, whether delivered live or stored.
    assertEquals(talk.sentBy("a", 250), talk.textsFrom(historyOfA, aId), "a's order");
    assertEquals(talk.sentBy("b", 250), talk.textsFrom(historyOfA, bId), "b's order");

    // A limit above 200 is served as 200; the newest of all come first when before is absent.
    JsonObject newest = history(readerA, new JsonObject().put("with", bId).put("limit", 1000));
    assertEquals(105, newest.getInteger("msgid"), newest::encode);
    assertEquals(110, newest.getInteger("ref"));
    assertEquals(200, newest.getJsonArray("messages").size());
    assertTrue(newest.getBoolean("more"));
    assertEquals(historyOfA.subList(300, 500), list(newest.getJsonArray("messages")));

    // The oldest page says nothing more is there.
    JsonObject oldest = history(readerB, new JsonObject().put("with", aId).put("limit", 10)
        .put("before", historyOfA.get(10).getString("msgno")));
    assertEquals(historyOfA.subList(0, 10), list(oldest.getJsonArray("messages")));
    assertFalse(oldest.getBoolean("more"));

    // An unknown before is 404.
    JsonObject unknown = history(readerA, new JsonObject().put("with", bId)
        .put("before", "no-such-msgno"));
    assertEquals(104, unknown.getInteger("msgid"), unknown::encode);
    assertEquals(404, unknown.getInteger("errno"));
    a.close();
    b.close();
  }

  @Test
  void groupHistoryIsForMembersOnly() {
    try (TcpTestClient creator = TcpTestClient.classic(first.tcpPort());
         WsTestClient member = WsTestClient.connect(second.httpPort());
         TcpTestClient outsider = TcpTestClient.classic(second.tcpPort())) {
      int creatorId = creator.register(TestNodes.unique("gh-creator"), "pw");
      int memberId = member.register(TestNodes.unique("gh-member"), "pw");
      int outsiderId = outsider.register(TestNodes.unique("gh-outsider"), "pw");
      creator.loginOk(creatorId, "pw");
      member.loginOk(memberId, "pw");
      outsider.loginOk(outsiderId, "pw");
      JsonObject created = request(creator, new JsonObject().put("msgid", 8)
          .put("groupname", TestNodes.unique("gh")).put("groupdesc", "history"));
      int groupId = created.getInteger("groupid");
      assertEquals(105, request(member, new JsonObject().put("msgid", 9).put("groupid", groupId))
          .getInteger("msgid"));
      for (int i = 0; i < 20; i++) {
        TestClient from = i % 2 == 0 ? creator : member;
        assertEquals(105, request(from, new JsonObject().put("msgid", 10).put("groupid", groupId)
            .put("msg", "g" + i)).getInteger("msgid"));
      }
      List<String> expected = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        expected.add("g" + i);
      }
      {
        List<JsonObject> seen = pageBackwards(member, "groupid", groupId, 7);
        List<String> texts = seen.stream().map(m -> m.getString("msg")).toList();
        assertEquals(Set.copyOf(expected), Set.copyOf(texts), "every group message");
        assertEquals(expected.size(), texts.size(), "each once");
        // Each sender's messages in the order sent (the order across the two senders'
        // nodes is the subject of the next test).
        assertEquals(expected.stream().filter(t -> even(t)).toList(),
            seen.stream().filter(m -> m.getInteger("id") == creatorId)
                .map(m -> m.getString("msg")).toList());
        assertEquals(expected.stream().filter(t -> !even(t)).toList(),
            seen.stream().filter(m -> m.getInteger("id") == memberId)
                .map(m -> m.getString("msg")).toList());
        assertEquals(Set.of("msgid", "id", "name", "groupid", "msg", "time", "msgno"),
            seen.get(0).fieldNames());
        assertEquals(10, seen.get(0).getInteger("msgid"));
        assertEquals(groupId, seen.get(0).getInteger("groupid"));
        List<String> inOrder = seen.stream().map(m -> m.getString("msg")).toList();
        assertEquals(expected, inOrder, "the accept order (each sent after the last ACK)");
      }

      JsonObject refused = history(outsider, new JsonObject().put("groupid", groupId));
      assertEquals(104, refused.getInteger("msgid"), refused::encode);
      assertEquals(403, refused.getInteger("errno"));
      JsonObject unknown = history(member, new JsonObject().put("groupid", 999_999_999));
      assertEquals(104, unknown.getInteger("msgid"), unknown::encode);
      assertEquals(404, unknown.getInteger("errno"));

      // Once CHAT_HISTORY_DAYS (30) have passed for these messages, history no longer has them.
      int aged = new Db(dbUrl).update("UPDATE message SET created_at = created_at - ?"
          + " WHERE conv = ?", Duration.ofDays(31).toMillis(), "g:" + groupId);
      assertEquals(20, aged);
      JsonObject afterRetention = history(member, new JsonObject().put("groupid", groupId));
      assertEquals(new JsonArray(), afterRetention.getJsonArray("messages"));
      assertFalse(afterRetention.getBoolean("more"));
    }
  }

  private static boolean even(String text) {
    return Integer.parseInt(text.substring(1)) % 2 == 0;
  }

  /**
   * CONTRACT §5: a message's place in history is the order in which the server accepted it.
   * Two users on two nodes take turns, each chat sent only after the other's was ACKed, so
   * the accept order is the sending order. Meanwhile the second node has a burst of chats to
   * write to another reader: a node that logged chats only once written (behind, after the
   * ACK) logged the first user's chats after the second user's replies.
   */
  @Test
  void chatsAckedOneAfterTheOtherOnTwoNodesKeepThatOrderInHistory() {
    try (Burst burst = new Burst(4, 1500);
         TcpTestClient a = TcpTestClient.classic(first.tcpPort());
         TcpTestClient b = TcpTestClient.classic(second.tcpPort())) {
      int aId = a.register(TestNodes.unique("turn-a"), "pw");
      int bId = b.register(TestNodes.unique("turn-b"), "pw");
      a.loginOk(aId, "pw");
      b.loginOk(bId, "pw");
      List<String> expected = new ArrayList<>();
      for (int i = 0; i < 40; i++) {
        boolean fromA = i % 2 == 0;
        String text = "t" + i;
        JsonObject ack = request(fromA ? a : b, chat(fromA ? bId : aId, text));
        assertEquals(105, ack.getInteger("msgid"), ack::encode);
        expected.add(text);
      }
      List<String> seen = pageBackwards(a, "with", bId, 200).stream()
          .map(m -> m.getString("msg")).toList();
      assertEquals(expected, seen, "every ACKed chat in history, in the accept order");
      assertEquals(seen, pageBackwards(b, "with", aId, 7).stream()
          .map(m -> m.getString("msg")).toList(), "the other side sees the same");
    }
  }

  /**
   * CONTRACT §5 and per-sender order through every path: a sender's chats are in history in
   * the order sent, also when the recipient leaves between them (the first ones written live,
   * the later ones stored), while the recipient's node has a burst of chats to write to
   * another reader (a node that logged chats once written logged the live ones after the
   * stored ones).
   */
  @Test
  void oneSendersChatsKeepTheirOrderInHistoryWhenTheRecipientLeavesBetweenThem() {
    try (Burst burst = new Burst(4, 1500);
         TcpTestClient a = TcpTestClient.classic(first.tcpPort())) {
      int aId = a.register(TestNodes.unique("order-a"), "pw");
      int bId = a.register(TestNodes.unique("order-b"), "pw");
      a.loginOk(aId, "pw");
      Conversation talk = new Conversation(aId, bId);
      int live = 200;
      int stored = 10;
      for (int round = 0; round < 5; round++) {
        try (TcpTestClient b = TcpTestClient.classic(second.tcpPort())) {
          b.loginOk(bId, "pw");
          talk.send(a, bId, live);
          int start = (live + stored) * round;
          Conversation.awaitLive(b, talk.sentBy("a", start + live).subList(start, start + live));
          logout(b);
        }
        talk.send(a, bId, stored);
      }
      assertEquals(talk.sentBy("a", 5 * (live + stored)),
          talk.textsFrom(pageBackwards(a, "with", bId, 200), aId), "a's order, every one");
    }
  }

  /**
   * Chats from several senders on the first node to one reader on the second, sent in a
   * burst and not awaited: while a test runs, the second node has thousands of chats to
   * write to its reader. Closing it waits for every ACK.
   */
  private static final class Burst implements AutoCloseable {
    private final List<TcpTestClient> clients = new ArrayList<>();
    private final int each;

    Burst(int senders, int each) {
      this.each = each;
      TcpTestClient reader = TcpTestClient.classic(second.tcpPort());
      clients.add(reader);
      int readerId = reader.register(TestNodes.unique("burst-r"), "pw");
      reader.loginOk(readerId, "pw");
      List<TcpTestClient> from = new ArrayList<>();
      for (int i = 0; i < senders; i++) {
        TcpTestClient sender = TcpTestClient.classic(first.tcpPort());
        clients.add(sender);
        sender.loginOk(sender.register(TestNodes.unique("burst-s"), "pw"), "pw");
        from.add(sender);
      }
      for (int n = 0; n < each; n++) {
        for (TcpTestClient sender : from) {
          sender.send(chat(readerId, "burst " + n).put("seq", "burst" + n));
        }
      }
    }

    @Override
    public void close() {
      try {
        for (TcpTestClient sender : clients.subList(1, clients.size())) {
          Eventually.within(SETTLE, () -> assertEquals(each, sender.all().stream()
              .filter(m -> m.getValue("seq") instanceof String seq && seq.startsWith("burst")
                  && m.getInteger("msgid") == 105).count(), "burst ACKed"));
        }
      } finally {
        clients.forEach(TcpTestClient::close);
      }
    }
  }

  @Test
  void withHistoryDaysZeroHistoryIsEmptyButStoredMessagesStillArrive(FreshDatabase database) {
    try (TestNodes noHistory = new TestNodes(database.url(), Map.of("CHAT_HISTORY_DAYS", "0"))) {
      ChatNode one = noHistory.start();
      ChatNode two = noHistory.start();
      try (TcpTestClient a = TcpTestClient.classic(one.tcpPort());
           TcpTestClient b = TcpTestClient.classic(two.tcpPort())) {
        int aId = a.register(TestNodes.unique("zero-a"), "pw");
        int bId = a.register(TestNodes.unique("zero-b"), "pw");
        a.loginOk(aId, "pw");
        for (int i = 0; i < 5; i++) {
          assertEquals(105, request(a, chat(bId, "stored " + i)).getInteger("msgid"));
        }
        JsonArray stored = b.loginOk(bId, "pw").getJsonArray("offlinemsg");
        assertEquals(5, stored.size(), "stored messages are kept until delivered");
        for (int i = 0; i < 5; i++) {
          assertEquals(105, request(a, chat(bId, "live " + i)).getInteger("msgid"));
        }
        for (int i = 0; i < 5; i++) {
          assertEquals("live " + i, b.expect(6).getString("msg"));
        }
        for (TestClient reader : List.of(a, b)) {
          JsonObject page = history(reader, new JsonObject()
              .put("with", reader == a ? bId : aId).put("limit", 200));
          assertEquals(105, page.getInteger("msgid"), page::encode);
          assertEquals(new JsonArray(), page.getJsonArray("messages"));
          assertFalse(page.getBoolean("more"));
        }
      }
    }
  }

  // ---- the two-user conversation ----

  /** What two users sent each other and what each received, by msgno. */
  private static final class Conversation {
    final int aId;
    final int bId;
    final List<JsonObject> receivedByA = new ArrayList<>();
    final List<JsonObject> receivedByB = new ArrayList<>();
    final Map<String, JsonObject> delivered = new HashMap<>();
    private final Map<String, Integer> sent = new HashMap<>(Map.of("a", 0, "b", 0));
    private final Map<TestClient, Integer> liveTaken = new HashMap<>();

    Conversation(int aId, int bId) {
      this.aId = aId;
      this.bId = bId;
    }

    /** Both send {@code each} chats, interleaved, and wait for every ACK. */
    void both(TestClient a, TestClient b, int each) {
      List<String> waits = new ArrayList<>();
      for (int i = 0; i < each; i++) {
        waits.add(sendNext(a, "a", bId));
        waits.add(sendNext(b, "b", aId));
      }
      List<String> fromA = waits.stream().filter(s -> s.startsWith("a")).toList();
      List<String> fromB = waits.stream().filter(s -> s.startsWith("b")).toList();
      awaitAcks(a, fromA);
      awaitAcks(b, fromB);
      awaitLive(b, fromA);
      awaitLive(a, fromB);
    }

    /** Waits until the connection has read these chats (an ACK means written, not read). */
    private static void awaitLive(TestClient client, List<String> texts) {
      Set<String> wanted = new HashSet<>(texts);
      Eventually.within(SETTLE, () -> assertEquals(wanted.size(), client.all().stream()
          .filter(m -> m.getInteger("msgid") == 6 && wanted.contains(m.getString("msg")))
          .count(), "chats read"));
    }

    /** One side sends {@code count} chats and waits for every ACK. */
    void send(TestClient from, int to, int count) {
      String who = to == bId ? "a" : "b";
      List<String> waits = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        waits.add(sendNext(from, who, to));
      }
      awaitAcks(from, waits);
    }

    private String sendNext(TestClient from, String who, int to) {
      int n = sent.merge(who, 1, Integer::sum) - 1;
      String text = who + n;
      from.send(chat(to, text).put("seq", text));
      return text;
    }

    private static void awaitAcks(TestClient client, List<String> seqs) {
      Set<String> wanted = new HashSet<>(seqs);
      Eventually.within(SETTLE, () -> {
        Set<String> acked = new HashSet<>();
        for (JsonObject m : client.all()) {
          if (m.getValue("seq") instanceof String seq && wanted.contains(seq)) {
            assertEquals(105, m.getInteger("msgid"), m::encode);
            acked.add(seq);
          }
        }
        assertEquals(wanted, acked, "ACKs");
      });
    }

    /** Takes the chats this connection received live since the last call for it. */
    void collectLive(TestClient client, int userId) {
      List<JsonObject> chats = client.all().stream().filter(m -> m.getInteger("msgid") == 6)
          .toList();
      int from = liveTaken.getOrDefault(client, 0);
      (userId == aId ? receivedByA : receivedByB).addAll(chats.subList(from, chats.size()));
      liveTaken.put(client, chats.size());
    }

    void assertDeliveredOnceInOrder() {
      for (List<JsonObject> received : List.of(receivedByA, receivedByB)) {
        for (JsonObject message : received) {
          JsonObject earlier = delivered.put(message.getString("msgno"), message);
          assertEquals(null, earlier, () -> "delivered twice: " + message);
        }
      }
      assertEquals(sentBy("b", sent.get("b")), textsFrom(receivedByA, bId), "b to a");
      assertEquals(sentBy("a", sent.get("a")), textsFrom(receivedByB, aId), "a to b");
    }

    List<String> sentBy(String who, int count) {
      List<String> texts = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        texts.add(who + i);
      }
      return texts;
    }

    List<String> textsFrom(List<JsonObject> messages, int senderId) {
      return messages.stream().filter(m -> m.getInteger("id") == senderId)
          .map(m -> m.getString("msg")).toList();
    }
  }

  // ---- protocol helpers ----

  private static JsonObject chat(int to, String text) {
    return new JsonObject().put("msgid", 6).put("toid", to).put("msg", text);
  }

  private static void logout(TestClient client) {
    assertEquals(105, request(client, new JsonObject().put("msgid", 3)).getInteger("msgid"));
  }

  /** Sends with a fresh seq and returns the ACK or ERROR carrying it. */
  private static JsonObject request(TestClient client, JsonObject request) {
    String seq = "r" + SEQ.incrementAndGet();
    client.send(request.put("seq", seq));
    Predicate<JsonObject> answer = m -> seq.equals(m.getValue("seq"))
        && (m.getInteger("msgid") == 105 || m.getInteger("msgid") == 104);
    return client.expect(answer, "the answer to " + request.encode(), SETTLE);
  }

  private static JsonObject history(TestClient client, JsonObject query) {
    return request(client, query.put("msgid", 110));
  }

  /** The whole conversation, newest page first, each page asked before the oldest so far. */
  private static List<JsonObject> pageBackwards(TestClient client, String field, int target,
                                                int limit) {
    List<JsonObject> all = new ArrayList<>();
    String before = null;
    for (int pages = 0; pages < 1000; pages++) {
      JsonObject query = new JsonObject().put(field, target).put("limit", limit);
      if (before != null) {
        query.put("before", before);
      }
      JsonObject page = history(client, query);
      assertEquals(105, page.getInteger("msgid"), page::encode);
      assertEquals(110, page.getInteger("ref"), page::encode);
      List<JsonObject> messages = list(page.getJsonArray("messages"));
      assertTrue(messages.size() <= limit, "at most limit");
      all.addAll(0, messages);
      if (!page.getBoolean("more")) {
        return all;
      }
      assertFalse(messages.isEmpty(), "more, yet an empty page");
      before = messages.get(0).getString("msgno");
    }
    throw new AssertionError("history does not end");
  }

  private static List<JsonObject> list(JsonArray array) {
    List<JsonObject> list = new ArrayList<>();
    array.forEach(m -> list.add((JsonObject) m));
    return list;
  }

  /** Logs in asking for acknowledged pages and acknowledges them all; returns the messages. */
  private static List<JsonObject> loginAckMode(TestClient client, int id) {
    String seq = "login" + SEQ.incrementAndGet();
    client.send(new JsonObject().put("msgid", 1).put("id", id).put("password", "pw")
        .put("offline", "ack").put("format", "structured").put("seq", seq));
    JsonObject ack = client.expect(2);
    assertEquals(0, ack.getInteger("errno"), ack::encode);
    List<JsonObject> received = new ArrayList<>();
    JsonArray page = ack.getJsonArray("offlinemsg");
    boolean more = ack.getBoolean("offline_more");
    while (true) {
      received.addAll(list(page));
      if (page.isEmpty()) {
        assertFalse(more);
        return received;
      }
      JsonObject next = request(client, new JsonObject().put("msgid", 109)
          .put("upto", page.getJsonObject(page.size() - 1).getString("msgno")));
      assertEquals(105, next.getInteger("msgid"), next::encode);
      page = next.getJsonArray("offlinemsg");
      more = next.getBoolean("offline_more");
    }
  }
}
