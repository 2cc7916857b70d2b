package chat.user;

import static chat.protocol.bus.Addresses.USER_GROUP_CREATE;
import static chat.protocol.bus.Addresses.USER_GROUP_JOIN;
import static chat.protocol.bus.Addresses.USER_HISTORY;
import static chat.protocol.bus.FailureCodes.INVALID_INPUT;
import static chat.protocol.bus.FailureCodes.NOT_A_MEMBER;
import static chat.protocol.bus.FailureCodes.NO_SUCH_GROUP;
import static chat.protocol.bus.FailureCodes.NO_SUCH_MESSAGE;
import static chat.protocol.bus.FailureCodes.NO_SUCH_USER;
import static chat.user.MessageStoreTest.append;
import static chat.user.MessageStoreTest.chat;
import static chat.user.MessageStoreTest.item;
import static chat.user.MessageStoreTest.register;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import chat.user.repo.SchemaMigration;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/** History pages of one-to-one and group conversations, their authorisation and window. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 120, timeUnit = TimeUnit.SECONDS)
class HistoryTest {

  @RegisterExtension
  static final TestDatabase DB = new TestDatabase();

  /** The service's clock; only the window test moves it. */
  static final MutableClock CLOCK = new MutableClock(System.currentTimeMillis());

  private static BusClient bus;

  @BeforeAll
  static void deploy(Vertx vertx) {
    SchemaMigration.migrate(DB.url());
    vertx.deployVerticle(new UserVerticle(TestConfigs.forDatabase(DB.url()), CLOCK)).await();
    bus = new BusClient(vertx);
    MessageStoreTest.useBus(bus);
  }

  static JsonObject history(int userId, String key, int other, String before, Integer limit) {
    JsonObject request = new JsonObject().put("userId", userId).put(key, other);
    if (before != null) {
      request.put("before", before);
    }
    if (limit != null) {
      request.put("limit", limit);
    }
    return bus.request(USER_HISTORY, request);
  }

  /** Every message of the conversation, paging back from the newest; checks each page. */
  static List<JsonObject> everything(int userId, String key, int other, int limit) {
    List<List<JsonObject>> pages = new ArrayList<>();
    String before = null;
    while (true) {
      JsonObject page = history(userId, key, other, before, limit);
      List<JsonObject> messages = new ArrayList<>();
      page.getJsonArray("messages").forEach(m -> messages.add((JsonObject) m));
      pages.add(messages);
      if (!page.getBoolean("more")) {
        break;
      }
      assertEquals(Math.min(limit, 200), messages.size(), "a full page before more");
      before = messages.get(0).getString("msgno");
    }
    Collections.reverse(pages);
    List<JsonObject> all = new ArrayList<>();
    pages.forEach(all::addAll);
    return all;
  }

  @Test
  void fiveHundredMessagesPageBackTheSameForBothSides() {
    int alice = register();
    int bob = register();
    List<JsonObject> sent = new ArrayList<>();
    for (int batch = 0; batch < 20; batch++) {
      JsonObject[] items = new JsonObject[25];
      for (int i = 0; i < 25; i++) {
        boolean fromAlice = (batch * 25 + i) % 3 != 0;
        int from = fromAlice ? alice : bob;
        int to = fromAlice ? bob : alice;
        JsonObject m = chat(from, to, "n" + (batch * 25 + i));
        sent.add(m);
        // some delivered live, some stored while the recipient was away
        items[i] = batch % 2 == 0
            ? item(m, List.of(), List.of(to)) : item(m, List.of(to), List.of());
      }
      append(items);
    }
    // a retried append changes nothing in history
    append(item(sent.get(7), List.of(bob), List.of()));

    List<JsonObject> seenByAlice = everything(alice, "with", bob, 200);
    List<JsonObject> seenByBob = everything(bob, "with", alice, 500);
    assertEquals(sent, seenByAlice);
    assertEquals(sent, seenByBob);
    assertEquals(500, new HashSet<>(seenByAlice).size());
    // other page sizes see the same
    assertEquals(sent, everything(bob, "with", alice, 37));

    // default limit 50, the newest first page, oldest first within it
    JsonObject newest = history(alice, "with", bob, null, null);
    assertEquals(sent.subList(450, 500), list(newest));
    assertTrue(newest.getBoolean("more"));
    // before: strictly older
    JsonObject older = history(bob, "with", alice, sent.get(10).getString("msgno"), 4);
    assertEquals(sent.subList(6, 10), list(older));
    assertTrue(older.getBoolean("more"));
    JsonObject oldest = history(bob, "with", alice, sent.get(3).getString("msgno"), 50);
    assertEquals(sent.subList(0, 3), list(oldest));
    assertFalse(oldest.getBoolean("more"));
    assertEquals(List.of(), list(history(bob, "with", alice, sent.get(0).getString("msgno"), 5)));
    // limit 0: nothing, but more tells whether anything is there
    JsonObject none = history(bob, "with", alice, null, 0);
    assertEquals(List.of(), list(none));
    assertTrue(none.getBoolean("more"));
    // someone else's conversation stays out
    int carol = register();
    append(item(chat(carol, alice, "not for bob"), List.of(alice), List.of()));
    assertEquals(sent.subList(450, 500), list(history(bob, "with", alice, null, 50)));
  }

  static List<JsonObject> list(JsonObject page) {
    List<JsonObject> out = new ArrayList<>();
    page.getJsonArray("messages").forEach(m -> out.add((JsonObject) m));
    return out;
  }

  @Test
  void groupHistoryIsForMembersOnly() {
    int alice = register();
    int bob = register();
    int carol = register();
    int group = bus.request(USER_GROUP_CREATE, new JsonObject().put("userId", alice)
        .put("groupname", "g-" + UUID.randomUUID()).put("groupdesc", "")).getInteger("groupid");
    bus.request(USER_GROUP_JOIN, new JsonObject().put("userId", bob).put("groupid", group));
    List<JsonObject> sent = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      JsonObject m = new JsonObject().put("msgid", 10).put("id", i % 2 == 0 ? alice : bob)
          .put("name", "x").put("groupid", group).put("msg", "g" + i)
          .put("time", "2026-11-22 18:00:00").put("msgno", UUID.randomUUID().toString());
      sent.add(m);
      append(item(m, List.of(i % 2 == 0 ? bob : alice), List.of()));
    }
    assertEquals(sent, list(history(alice, "groupid", group, null, null)));
    assertEquals(sent, list(history(bob, "groupid", group, null, null)));
    bus.assertFails(NOT_A_MEMBER, USER_HISTORY,
        new JsonObject().put("userId", carol).put("groupid", group));
    bus.assertFails(NO_SUCH_GROUP, USER_HISTORY,
        new JsonObject().put("userId", alice).put("groupid", 999_999));
    // a group's msgno is unknown in a one-to-one conversation, and the other way round
    bus.assertFails(NO_SUCH_MESSAGE, USER_HISTORY, new JsonObject().put("userId", alice)
        .put("with", bob).put("before", sent.get(2).getString("msgno")));
    bus.assertFails(NO_SUCH_MESSAGE, USER_HISTORY, new JsonObject().put("userId", alice)
        .put("groupid", group).put("before", "no-such-msgno"));
  }

  @Test
  void badRequestsAreRefused() {
    int alice = register();
    bus.assertFails(NO_SUCH_USER, USER_HISTORY,
        new JsonObject().put("userId", alice).put("with", 999_999));
    bus.assertFails(INVALID_INPUT, USER_HISTORY, new JsonObject().put("userId", alice));
    bus.assertFails(INVALID_INPUT, USER_HISTORY,
        new JsonObject().put("userId", alice).put("with", 1).put("groupid", 1));
    bus.assertFails(INVALID_INPUT, USER_HISTORY,
        new JsonObject().put("userId", alice).put("with", alice).put("limit", -1));
    bus.assertFails(INVALID_INPUT, USER_HISTORY,
        new JsonObject().put("userId", alice).put("with", alice).put("before", 12));
  }

  @Test
  void aLimitOverTwoHundredIsServedAsTwoHundred() {
    int alice = register();
    int bob = register();
    JsonObject[] items = new JsonObject[250];
    for (int i = 0; i < items.length; i++) {
      items[i] = item(chat(alice, bob, "m" + i), List.of(), List.of(bob));
    }
    append(items);
    JsonObject page = history(alice, "with", bob, null, 1000);
    assertEquals(200, page.getJsonArray("messages").size());
    assertTrue(page.getBoolean("more"));
    assertEquals("m249", list(page).get(199).getString("msg"));
  }

  /** Moves the clock; the other tests' messages are stamped by the same clock: no harm. */
  @Test
  void nothingOlderThanTheWindowIsShown() {
    int alice = register();
    int bob = register();
    append(item(chat(alice, bob, "old"), List.of(bob), List.of()));
    assertEquals(1, list(history(alice, "with", bob, null, null)).size());
    CLOCK.advance(Duration.ofDays(UserConfig.DEFAULT_HISTORY_DAYS).plusMinutes(1));
    JsonObject page = history(alice, "with", bob, null, null);
    assertEquals(new JsonObject().put("messages", new JsonArray()).put("more", false), page);
  }
}
