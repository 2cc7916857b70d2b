package chat.user;

import static chat.protocol.bus.Addresses.USER_OFFLINE_DELETE;
import static chat.protocol.bus.Addresses.USER_OFFLINE_STORE;
import static chat.protocol.bus.Addresses.USER_PROFILE;
import static chat.protocol.bus.Addresses.USER_REGISTER;
import static chat.protocol.bus.FailureCodes.INVALID_INPUT;
import static chat.protocol.bus.FailureCodes.NO_SUCH_USER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

/** Messages kept for offline users: store, read back in order through the profile, delete. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class OfflineMessagesTest {

  @RegisterExtension
  static final TestDatabase DB = new TestDatabase();

  private static BusClient bus;

  @BeforeAll
  static void deploy(Vertx vertx) {
    SchemaMigration.migrate(DB.url());
    vertx.deployVerticle(new UserVerticle(TestConfigs.forDatabase(DB.url()))).await();
    bus = new BusClient(vertx);
  }

  private static int register() {
    String name = "u-" + UUID.randomUUID().toString().substring(0, 12);
    return bus.request(USER_REGISTER, new JsonObject().put("name", name).put("password", "pw"))
        .getInteger("id");
  }

  private static long store(int toId, JsonObject message) {
    return bus.request(USER_OFFLINE_STORE, new JsonObject().put("toid", toId).put("message", message))
        .getLong("no");
  }

  private static JsonObject chat(int from, int to, String text) {
    return new JsonObject().put("msgid", 6).put("id", from).put("name", "sender \uD83D\uDE00")
        .put("toid", to).put("msg", text).put("time", "2026-11-22 18:00:00")
        .put("msgno", UUID.randomUUID().toString());
  }

  private static JsonObject profile(int userId) {
    return bus.request(USER_PROFILE, new JsonObject().put("userId", userId));
  }

  @Test
  void storedMessagesComeBackOldestFirstAsObjects() {
    int alice = register();
    int bob = register();
    List<JsonObject> sent = List.of(
        chat(alice, bob, "first"),
        chat(alice, bob, "it's \"quoted\" \\ and \uD83D\uDE80"),
        new JsonObject().put("msgid", 10).put("groupid", 3).put("msg", "nested")
            .put("extra", new JsonObject().put("list", new JsonArray().add(1).add("two"))));
    List<Long> numbers = new ArrayList<>();
    for (JsonObject m : sent) {
      numbers.add(store(bob, m));
    }
    assertTrue(numbers.get(0) < numbers.get(1) && numbers.get(1) < numbers.get(2), numbers::toString);

    JsonObject profile = profile(bob);
    JsonArray offline = profile.getJsonArray("offline");
    assertEquals(3, offline.size());
    for (int i = 0; i < 3; i++) {
      JsonObject entry = offline.getJsonObject(i);
      assertEquals(numbers.get(i), entry.getLong("no"));
      assertEquals(sent.get(i), entry.getJsonObject("message"));
    }
    assertEquals(numbers.get(2), profile.getLong("offlineUpTo"));
    // reading does not delete
    assertEquals(3, profile(bob).getJsonArray("offline").size());
    // nothing was kept for the sender
    assertEquals(new JsonArray(), profile(alice).getJsonArray("offline"));
  }

  @Test
  void deleteRemovesExactlyWhatWasRead() {
    int bob = register();
    store(bob, chat(1, bob, "one"));
    store(bob, chat(1, bob, "two"));
    long upTo = profile(bob).getLong("offlineUpTo");
    // arrives after the profile was read: must survive the delete
    long late = store(bob, chat(1, bob, "late"));

    assertEquals(new JsonObject(), bus.request(USER_OFFLINE_DELETE,
        new JsonObject().put("userId", bob).put("upTo", upTo)));

    JsonObject after = profile(bob);
    JsonArray offline = after.getJsonArray("offline");
    assertEquals(1, offline.size());
    assertEquals(late, offline.getJsonObject(0).getLong("no"));
    assertEquals("late", offline.getJsonObject(0).getJsonObject("message").getString("msg"));
    assertEquals(late, after.getLong("offlineUpTo"));
  }

  @Test
  void deleteTouchesOnlyThatUser() {
    int bob = register();
    int carol = register();
    store(bob, chat(1, bob, "for bob"));
    long carols = store(carol, chat(1, carol, "for carol"));
    bus.request(USER_OFFLINE_DELETE, new JsonObject().put("userId", bob).put("upTo", Long.MAX_VALUE));
    assertEquals(new JsonArray(), profile(bob).getJsonArray("offline"));
    assertEquals(carols, profile(carol).getJsonArray("offline").getJsonObject(0).getLong("no"));
  }

  @Test
  void emptyProfileHasEmptyListsAndNoState() {
    JsonObject profile = profile(register());
    assertEquals(new JsonObject()
        .put("friends", new JsonArray())
        .put("groups", new JsonArray())
        .put("offline", new JsonArray())
        .put("offlineUpTo", 0), profile);
    assertFalse(profile.containsKey("state"));
  }

  @Test
  void sixtyKilobyteMessageIsStoredWhole() {
    int bob = register();
    StringBuilder text = new StringBuilder();
    while (text.length() < 60 * 1024) {
      text.append("0123456789abcdef\u00E9\"\\'\uD83D\uDE00 ");
    }
    JsonObject big = chat(1, bob, text.toString());
    assertTrue(big.encode().getBytes(java.nio.charset.StandardCharsets.UTF_8).length > 60 * 1024);
    long no = store(bob, big);
    JsonObject entry = profile(bob).getJsonArray("offline").getJsonObject(0);
    assertEquals(no, entry.getLong("no"));
    assertEquals(big, entry.getJsonObject("message"));
  }

  @Test
  void unknownRecipientIsNoSuchUser() {
    bus.assertFails(NO_SUCH_USER, USER_OFFLINE_STORE,
        new JsonObject().put("toid", 999_999).put("message", new JsonObject().put("msg", "x")));
  }

  @Test
  void malformedRequestsAreInvalidInput() {
    int bob = register();
    bus.assertFails(INVALID_INPUT, USER_OFFLINE_STORE,
        new JsonObject().put("toid", bob).put("message", "{\"msg\":\"a string, not an object\"}"));
    bus.assertFails(INVALID_INPUT, USER_OFFLINE_STORE, new JsonObject().put("toid", bob));
    bus.assertFails(INVALID_INPUT, USER_OFFLINE_STORE,
        new JsonObject().put("message", new JsonObject()));
    bus.assertFails(INVALID_INPUT, USER_OFFLINE_DELETE, new JsonObject().put("userId", bob));
    bus.assertFails(INVALID_INPUT, USER_OFFLINE_DELETE,
        new JsonObject().put("userId", bob).put("upTo", -1));
    bus.assertFails(INVALID_INPUT, USER_OFFLINE_DELETE,
        new JsonObject().put("userId", bob).put("upTo", "7"));
    bus.assertFails(INVALID_INPUT, USER_PROFILE, new JsonObject());
    bus.assertFails(INVALID_INPUT, USER_PROFILE, new JsonObject().put("userId", 0));
    assertEquals(new JsonArray(), profile(bob).getJsonArray("offline"));
  }
}
