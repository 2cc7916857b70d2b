package chat.user;

import static chat.protocol.bus.Addresses.USER_MESSAGE_APPEND;
import static chat.protocol.bus.Addresses.USER_OFFLINE_ACK;
import static chat.protocol.bus.Addresses.USER_OFFLINE_PAGE;
import static chat.protocol.bus.Addresses.USER_PROFILE;
import static chat.protocol.bus.Addresses.USER_REGISTER;
import static chat.protocol.bus.FailureCodes.INVALID_INPUT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import chat.protocol.bus.LocalRecords;
import chat.protocol.bus.user.Append;
import chat.user.repo.SchemaMigration;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The message log and mailboxes over the bus: idempotent appends, the bounded mailbox, pages
 * and acknowledgement of exactly the messages named.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 120, timeUnit = TimeUnit.SECONDS)
class MessageStoreTest {

  @RegisterExtension
  static final TestDatabase DB = new TestDatabase();

  static final int OFFLINE_MAX = 5;

  private static BusClient bus;
  private static Vertx vertx;

  @BeforeAll
  static void deploy(Vertx v) {
    vertx = v;
    SchemaMigration.migrate(DB.url());
    vertx.deployVerticle(new UserVerticle(TestConfigs.forDatabase(DB.url())
        .withOfflineMax(OFFLINE_MAX))).await();
    bus = new BusClient(vertx);
  }

  /** For the other test classes that reuse these helpers. */
  static void useBus(BusClient client) {
    bus = client;
  }

  static int register() {
    String name = "u-" + UUID.randomUUID().toString().substring(0, 12);
    return bus.request(USER_REGISTER, new JsonObject().put("name", name).put("password", "pw"))
        .getInteger("id");
  }

  static JsonObject chat(int from, int to, String text) {
    return new JsonObject().put("msgid", 6).put("id", from).put("name", "sender \uD83D\uDE00")
        .put("toid", to).put("msg", text).put("time", "2026-11-22 18:00:00")
        .put("msgno", UUID.randomUUID().toString());
  }

  static JsonObject item(JsonObject message, List<Integer> pending, List<Integer> delivered) {
    return new JsonObject().put("message", message).put("pending", new JsonArray(pending))
        .put("delivered", new JsonArray(delivered));
  }

  static JsonObject result(List<Integer> stored, List<Integer> full, List<Integer> missing) {
    return new JsonObject().put("stored", new JsonArray(stored))
        .put("full", new JsonArray(full)).put("missing", new JsonArray(missing));
  }

  static JsonArray append(JsonObject... items) {
    return bus.request(USER_MESSAGE_APPEND,
        new JsonObject().put("messages", new JsonArray(List.of((Object[]) items))))
        .getJsonArray("results");
  }

  static JsonObject page(int userId, int limit) {
    return bus.request(USER_OFFLINE_PAGE,
        new JsonObject().put("userId", userId).put("limit", limit));
  }

  static List<String> msgnos(JsonObject page) {
    List<String> out = new ArrayList<>();
    page.getJsonArray("messages").forEach(m -> out.add(((JsonObject) m).getString("msgno")));
    return out;
  }

  static int ack(int userId, List<String> msgnos) {
    return bus.request(USER_OFFLINE_ACK,
        new JsonObject().put("userId", userId).put("msgnos", new JsonArray(msgnos)))
        .getInteger("acked");
  }

  static long pendingRows(int userId) throws Exception {
    return ((Number) DB.queryValue(
        "SELECT COUNT(*) FROM mailbox WHERE userid = ? AND pending = 1", userId)).longValue();
  }

  /** A sender's accept: the log row only, its recipients must exist. */
  static JsonObject accepted(JsonObject message, List<Integer> to) {
    return new JsonObject().put("message", message).put("to", new JsonArray(to));
  }

  static long logRows(String msgno) throws Exception {
    return ((Number) DB.queryValue("SELECT COUNT(*) FROM message WHERE msgno = ?", msgno))
        .longValue();
  }

  static long logId(JsonObject message) throws Exception {
    return ((Number) DB.queryValue("SELECT id FROM message WHERE msgno = ?",
        message.getString("msgno"))).longValue();
  }

  /**
   * Chats logged at accept, then stored for the recipient in another order (a closed
   * session's unwritten ones after a newer one): the mailbox gives them in log order, each
   * logged once, and the accept of a chat to nobody logs nothing.
   */
  @Test
  void chatsLoggedAtAcceptAreStoredLaterInTheirLogOrder() throws Exception {
    int alice = register();
    int bob = register();
    List<JsonObject> chats = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      chats.add(chat(alice, bob, "accepted " + i));
    }
    JsonObject toNobody = chat(alice, 999_999_999, "to nobody");
    JsonArray accepts = append(accepted(chats.get(0), List.of(bob)),
        accepted(chats.get(1), List.of(bob)), accepted(toNobody, List.of(999_999_999)),
        accepted(chats.get(2), List.of(bob)), accepted(chats.get(3), List.of(bob)),
        accepted(chats.get(4), List.of(bob)));
    assertEquals(result(List.of(), List.of(), List.of(999_999_999)), accepts.getJsonObject(2));
    assertEquals(result(List.of(), List.of(), List.of()), accepts.getJsonObject(0));
    assertEquals(0, logRows(toNobody.getString("msgno")), "a chat to nobody is not logged");
    for (int i = 1; i < chats.size(); i++) {
      assertTrue(logId(chats.get(i - 1)) < logId(chats.get(i)), "log order = accept order");
    }
    assertEquals(0, pendingRows(bob), "logged, pending for nobody yet");
    // stored later, newest first
    for (int i = chats.size() - 1; i >= 0; i--) {
      assertEquals(new JsonArray().add(result(List.of(bob), List.of(), List.of())),
          append(item(chats.get(i), List.of(bob), List.of())));
    }
    // the accept sent again (a lost answer) changes nothing
    append(accepted(chats.get(0), List.of(bob)));
    List<String> expected = chats.stream().map(c -> c.getString("msgno")).toList();
    assertEquals(expected, msgnos(page(bob, 10)), "pending in log order");
    for (JsonObject c : chats) {
      assertEquals(1, logRows(c.getString("msgno")));
    }
  }

  /** A refusable store nobody takes (mailbox full) leaves the log; one that is taken stays. */
  @Test
  void aRefusedChatLeavesTheLog() throws Exception {
    int alice = register();
    int bob = register();
    for (int i = 0; i < OFFLINE_MAX; i++) {
      append(item(chat(alice, bob, "fill " + i), List.of(bob), List.of()));
    }
    JsonObject refused = chat(alice, bob, "one too many");
    append(accepted(refused, List.of(bob)));
    assertEquals(1, logRows(refused.getString("msgno")));
    JsonObject store = item(refused, List.of(bob), List.of()).put("refusable", true);
    assertEquals(new JsonArray().add(result(List.of(), List.of(bob), List.of())), append(store));
    assertEquals(0, logRows(refused.getString("msgno")), "refused: out of history");
    JsonObject kept = chat(alice, bob, "kept");
    append(accepted(kept, List.of(bob)));
    ack(bob, msgnos(page(bob, 1)));
    assertEquals(new JsonArray().add(result(List.of(bob), List.of(), List.of())),
        append(item(kept, List.of(bob), List.of()).put("refusable", true)));
    assertEquals(1, logRows(kept.getString("msgno")));
  }

  /**
   * Batches of every size class are one statement of one of a few shapes, filled up by
   * repeating their last row (and IN lists by repeating their last id): each chat is still
   * logged exactly once, in the order given, and a recipient missing only once.
   */
  @Test
  void batchesOfAnySizeAreLoggedOnceInOrder() throws Exception {
    int alice = register();
    int bob = register();
    int logged = 0;
    for (int size : new int[] {1, 3, 9, 11, 17, 37, 71, 150, 199, 201, 437}) {
      List<JsonObject> chats = new ArrayList<>();
      JsonObject[] items = new JsonObject[size];
      for (int i = 0; i < size; i++) {
        chats.add(chat(alice, bob, size + "/" + i));
        // every third names its recipient (an IN list of one id, repeated), one a missing user
        items[i] = accepted(chats.get(i), i == size / 2 ? List.of(bob, 999_999_998)
            : i % 3 == 0 ? List.of(bob) : List.of());
      }
      JsonArray results = append(items);
      assertEquals(size, results.size());
      for (int i = 0; i < size; i++) {
        boolean missing = i == size / 2;
        assertEquals(result(List.of(), List.of(), missing ? List.of(999_999_998) : List.of()),
            results.getJsonObject(i), "batch of " + size + ", chat " + i);
        assertEquals(missing ? 0 : 1, logRows(chats.get(i).getString("msgno")),
            "batch of " + size + ", chat " + i + " logged once (or not at all when missing)");
        if (!missing) {
          logged++;
        }
      }
      long previous = 0;
      for (int i = 0; i < size; i++) {
        if (i != size / 2) {
          long id = logId(chats.get(i));
          assertTrue(previous < id, "batch of " + size + ": log order = order given at " + i);
          previous = id;
        }
      }
    }
    assertEquals((long) logged, ((Number) DB.queryValue(
        "SELECT COUNT(*) FROM message WHERE conv = ?", Append.oneToOne(alice, bob)))
        .longValue(), "no row beyond the chats given");
  }

  /**
   * A gateway of this process hands over the {@link Append} record itself (no JSON body) and
   * gets the {@link Append.Reply} record back, with what the JSON request would have answered.
   */
  @Test
  void aRecordFromThisProcessIsAnsweredWithARecord() throws Exception {
    int alice = register();
    int bob = register();
    LocalRecords.register(vertx.eventBus());
    JsonObject first = chat(alice, bob, "as a record");
    JsonObject second = chat(alice, 999_999_997, "to nobody, as a record");
    Append request = new Append(List.of(Append.Item.log(first, List.of(bob)),
        Append.Item.log(second, List.of(999_999_997)),
        Append.Item.store(first, List.of(bob), false)));
    Object reply = vertx.eventBus().request(USER_MESSAGE_APPEND, request,
        LocalRecords.options(10_000)).await().body();
    Append.Reply records = assertInstanceOf(Append.Reply.class, reply);
    assertEquals(List.of(new Append.Result(List.of(), List.of(), List.of()),
        new Append.Result(List.of(), List.of(), List.of(999_999_997)),
        new Append.Result(List.of(bob), List.of(), List.of())), records.results());
    assertEquals(1, logRows(first.getString("msgno")));
    assertEquals(0, logRows(second.getString("msgno")));
    assertEquals(List.of(first.getString("msgno")), msgnos(page(bob, 10)));
  }

  @Test
  void storedMessagesComeBackInOrderAsDelivered() {
    int alice = register();
    int bob = register();
    List<JsonObject> sent = List.of(
        chat(alice, bob, "first"),
        chat(alice, bob, "it's \"quoted\" \\ and \uD83D\uDE80"),
        new JsonObject().put("msgid", 10).put("id", alice).put("groupid", 3).put("msg", "nested")
            .put("msgno", "g-" + UUID.randomUUID())
            .put("extra", new JsonObject().put("list", new JsonArray().add(1).add("two"))));
    for (JsonObject m : sent) {
      assertEquals(new JsonArray().add(result(List.of(bob), List.of(), List.of())),
          append(item(m, List.of(bob), List.of(alice))));
    }
    JsonObject page = page(bob, 10);
    assertFalse(page.getBoolean("more"));
    JsonArray messages = page.getJsonArray("messages");
    assertEquals(3, messages.size());
    for (int i = 0; i < 3; i++) {
      assertEquals(sent.get(i).getString("msgno"), messages.getJsonObject(i).getString("msgno"));
      assertEquals(sent.get(i), messages.getJsonObject(i).getJsonObject("message"));
    }
    // reading does not acknowledge; nothing waits for the sender
    assertEquals(3, page(bob, 10).getJsonArray("messages").size());
    assertEquals(0, page(alice, 10).getJsonArray("messages").size());
  }

  @Test
  void theSameMsgnoTwiceIsStoredOnce() throws Exception {
    int alice = register();
    int bob = register();
    JsonObject m = chat(alice, bob, "once");
    append(item(m, List.of(bob), List.of()));
    assertEquals(new JsonArray().add(result(List.of(bob), List.of(), List.of())),
        append(item(m, List.of(bob), List.of())));
    // even twice in one call
    append(item(m, List.of(bob), List.of()), item(m, List.of(bob), List.of()));
    assertEquals(List.of(m.getString("msgno")), msgnos(page(bob, 10)));
    assertEquals(1L, ((Number) DB.queryValue("SELECT COUNT(*) FROM message WHERE msgno = ?",
        m.getString("msgno"))).longValue());
  }

  @Test
  void deliveredThenPendingStaysDelivered() throws Exception {
    int alice = register();
    int bob = register();
    JsonObject m = chat(alice, bob, "live, then a late store");
    append(item(m, List.of(), List.of(bob)));
    assertEquals(new JsonArray().add(result(List.of(bob), List.of(), List.of())),
        append(item(m, List.of(bob), List.of())));
    assertEquals(List.of(), msgnos(page(bob, 10)));
    assertEquals(0L, pendingRows(bob));
  }

  @Test
  void pendingThenDeliveredIsDelivered() throws Exception {
    int alice = register();
    int bob = register();
    JsonObject m = chat(alice, bob, "stored, then delivered after all");
    append(item(m, List.of(bob), List.of()));
    append(item(m, List.of(), List.of(bob)));
    assertEquals(List.of(), msgnos(page(bob, 10)));
    // and in one item, delivered wins too
    JsonObject both = chat(alice, bob, "both at once");
    assertEquals(new JsonArray().add(result(List.of(bob), List.of(), List.of())),
        append(item(both, List.of(bob), List.of(bob))));
    assertEquals(List.of(), msgnos(page(bob, 10)));
  }

  @Test
  void aFullMailboxRefusesAndKeepsWhatItHas() throws Exception {
    int alice = register();
    int bob = register();
    int carol = register();
    List<String> kept = new ArrayList<>();
    for (int i = 0; i < OFFLINE_MAX; i++) {
      JsonObject m = chat(alice, bob, "m" + i);
      kept.add(m.getString("msgno"));
      append(item(m, List.of(bob), List.of()));
    }
    JsonObject last = chat(alice, bob, "one too many");
    // one call: bob is full, carol is not, 999999 does not exist
    assertEquals(new JsonArray().add(result(List.of(carol), List.of(bob), List.of(999_999))),
        append(item(last, List.of(bob, carol, 999_999), List.of())));
    assertEquals(OFFLINE_MAX, pendingRows(bob));
    assertEquals(kept, msgnos(page(bob, 100)));
    // a retried append of a message bob has is still "stored", full or not
    assertEquals(new JsonArray().add(result(List.of(bob), List.of(), List.of())),
        append(item(chat(alice, bob, "x").put("msgno", kept.get(0)), List.of(bob), List.of())));
    // acknowledging one makes room for one
    assertEquals(1, ack(bob, List.of(kept.get(0))));
    assertEquals(new JsonArray().add(result(List.of(bob), List.of(), List.of()))
        .add(result(List.of(), List.of(bob), List.of())),
        append(item(last, List.of(bob), List.of()),
            item(chat(alice, bob, "again too many"), List.of(bob), List.of())));
    assertEquals(OFFLINE_MAX, pendingRows(bob));
  }

  @Test
  void ackTakesExactlyTheMsgnosGiven() throws Exception {
    int alice = register();
    int bob = register();
    int carol = register();
    List<String> all = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      JsonObject m = chat(alice, bob, "m" + i);
      all.add(m.getString("msgno"));
      append(item(m, List.of(bob, carol), List.of()));
    }
    JsonObject first = page(bob, 3);
    assertTrue(first.getBoolean("more"));
    assertEquals(all.subList(0, 3), msgnos(first));
    // a subset that is not a prefix, plus unknown and someone else's numbers
    assertEquals(2, ack(bob, List.of(all.get(0), all.get(2), "unknown-msgno")));
    assertEquals(List.of(all.get(1), all.get(3), all.get(4)), msgnos(page(bob, 10)));
    assertFalse(page(bob, 10).getBoolean("more"));
    // acking again changes nothing; carol still has all five
    assertEquals(0, ack(bob, List.of(all.get(0))));
    assertEquals(all, msgnos(page(carol, 10)));
    assertEquals(3, ack(bob, List.of(all.get(1), all.get(3), all.get(4))));
    assertEquals(0L, pendingRows(bob));
    // the acknowledged rows stay as tombstones: a late store of them adds nothing
    append(item(chat(alice, bob, "late").put("msgno", all.get(2)), List.of(bob), List.of()));
    assertEquals(List.of(), msgnos(page(bob, 10)));
  }

  @Test
  void aCallMayNameThousandsOfUsers() {
    int alice = register();
    int bob = register();
    List<Integer> pending = new ArrayList<>();
    List<Integer> missing = new ArrayList<>();
    pending.add(bob);
    for (int i = 0; i < 2_500; i++) {
      pending.add(900_000 + i);
      missing.add(900_000 + i);
    }
    JsonObject m = new JsonObject().put("msgid", 10).put("id", alice).put("groupid", 1)
        .put("msg", "to a crowd").put("msgno", UUID.randomUUID().toString());
    assertEquals(new JsonArray().add(result(List.of(bob), List.of(), missing)),
        append(item(m, pending, List.of(alice))));
    assertEquals(List.of(m.getString("msgno")), msgnos(page(bob, 10)));
  }

  @Test
  void sixtyKilobyteMessageIsStoredWhole() {
    int bob = register();
    StringBuilder text = new StringBuilder();
    while (text.length() < 60 * 1024) {
      text.append("0123456789abcdef\u00E9\"\\'\uD83D\uDE00 ");
    }
    JsonObject big = chat(1, bob, text.toString());
    append(item(big, List.of(bob), List.of()));
    assertEquals(big, page(bob, 1).getJsonArray("messages").getJsonObject(0)
        .getJsonObject("message"));
  }

  @Test
  void profileHasNoOfflineFields() {
    JsonObject profile = bus.request(USER_PROFILE, new JsonObject().put("userId", register()));
    assertEquals(new JsonObject().put("friends", new JsonArray()).put("groups", new JsonArray()),
        profile);
  }

  @Test
  void malformedRequestsAreInvalidInput() throws Exception {
    int bob = register();
    JsonObject ok = chat(1, bob, "fine");
    for (JsonObject bad : List.of(
        new JsonObject(),
        new JsonObject().put("messages", "no"),
        new JsonObject().put("messages", new JsonArray().add("no")),
        new JsonObject().put("messages", new JsonArray().add(new JsonObject())),
        new JsonObject().put("messages", new JsonArray().add(
            item(ok.copy().put("msgno", 5), List.of(bob), List.of()))),
        new JsonObject().put("messages", new JsonArray().add(
            item(ok.copy().put("msgno", "x".repeat(65)), List.of(bob), List.of()))),
        new JsonObject().put("messages", new JsonArray().add(
            item(ok.copy().put("msgid", 4), List.of(bob), List.of()))),
        new JsonObject().put("messages", new JsonArray().add(
            item(ok.copy().put("toid", "7"), List.of(bob), List.of()))),
        new JsonObject().put("messages", new JsonArray().add(
            new JsonObject().put("message", ok).put("pending", new JsonArray().add("7")))))) {
      bus.assertFails(INVALID_INPUT, USER_MESSAGE_APPEND, bad);
    }
    bus.assertFails(INVALID_INPUT, USER_OFFLINE_PAGE, new JsonObject().put("userId", bob)
        .put("limit", 0));
    bus.assertFails(INVALID_INPUT, USER_OFFLINE_PAGE, new JsonObject().put("limit", 3));
    bus.assertFails(INVALID_INPUT, USER_OFFLINE_ACK, new JsonObject().put("userId", bob));
    bus.assertFails(INVALID_INPUT, USER_OFFLINE_ACK, new JsonObject().put("userId", bob)
        .put("msgnos", new JsonArray().add(3)));
    assertEquals(0L, pendingRows(bob));
  }
}
