package chat.user;

import static chat.protocol.bus.Addresses.USER_LOGIN;
import static chat.protocol.bus.Addresses.USER_LOGIN_DATA;
import static chat.protocol.bus.Addresses.USER_LOGOUT;
import static chat.protocol.bus.Addresses.USER_PING;
import static chat.protocol.bus.Addresses.USER_REGISTER;
import static chat.protocol.bus.FailureCodes.BAD_CREDENTIALS;
import static chat.protocol.bus.FailureCodes.INVALID_INPUT;
import static chat.protocol.bus.FailureCodes.NAME_TAKEN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import chat.protocol.bus.LocalRecords;
import chat.protocol.bus.user.Login;
import chat.protocol.bus.user.LoginData;
import chat.user.repo.SchemaMigration;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Registration, login by password and by token, logout, ping. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class AccountsTest {

  @RegisterExtension
  static final TestDatabase DB = new TestDatabase();

  private static BusClient bus;
  private static Vertx vertx;

  @BeforeAll
  static void deploy(Vertx vertx) {
    AccountsTest.vertx = vertx;
    SchemaMigration.migrate(DB.url());
    vertx.deployVerticle(new UserVerticle(TestConfigs.forDatabase(DB.url()))).await();
    bus = new BusClient(vertx);
  }

  private static String uniqueName(String prefix) {
    return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  private static int register(String name, String password) {
    JsonObject reply = bus.request(USER_REGISTER,
        new JsonObject().put("name", name).put("password", password));
    return reply.getInteger("id");
  }

  @Test
  void registerThenLoginById() {
    String name = uniqueName("alice");
    int id = register(name, "pw");
    assertTrue(id > 0);

    JsonObject login = bus.request(USER_LOGIN, new JsonObject().put("id", id).put("password", "pw"));
    assertEquals(id, login.getInteger("id"));
    assertEquals(name, login.getString("name"));
    String token = login.getString("token");
    assertTrue(token.length() <= 64, token);
    assertTrue(token.matches("[A-Za-z0-9_-]+"), token);
  }

  @Test
  void loginByName() {
    String name = uniqueName("bob");
    int id = register(name, "secret");
    JsonObject login = bus.request(USER_LOGIN,
        new JsonObject().put("name", "  " + name + " ").put("password", "secret"));
    assertEquals(id, login.getInteger("id"));
    assertEquals(name, login.getString("name"));
  }

  @Test
  void idsAreDistinctAndIncreasing() {
    int first = register(uniqueName("first"), "pw");
    int second = register(uniqueName("second"), "pw");
    assertTrue(second > first, first + " then " + second);
  }

  @Test
  void duplicateNameIsRefused() {
    String name = uniqueName("dup");
    register(name, "pw");
    String text = bus.assertFails(NAME_TAKEN, USER_REGISTER,
        new JsonObject().put("name", name).put("password", "other"));
    assertEquals("name already taken", text);
    // surrounding blanks are trimmed, so they do not make a new name
    bus.assertFails(NAME_TAKEN, USER_REGISTER,
        new JsonObject().put("name", " " + name + "  ").put("password", "other"));
  }

  @Test
  void namesWithQuotesBackslashesAndEmojiWork() {
    List<String> names = List.of(
        "O'Brien \"the\" \\ " + uniqueName(""),
        "'); DROP TABLE user; -- " + uniqueName(""),
        "\uD83D\uDE00 smile " + uniqueName(""),
        "\u5F20\u4E09 " + uniqueName(""));
    for (String name : names) {
      int id = register(name, "p'w\"\\\uD83D\uDD11");
      JsonObject byName = bus.request(USER_LOGIN,
          new JsonObject().put("name", name).put("password", "p'w\"\\\uD83D\uDD11"));
      assertEquals(id, byName.getInteger("id"));
      assertEquals(name, byName.getString("name"));
    }
  }

  @Test
  void namesAreComparedExactly() {
    // different emoji, and names differing only in case, are different names
    String suffix = uniqueName("");
    register("\uD83D\uDE00" + suffix, "pw");
    register("\uD83D\uDE0E" + suffix, "pw");
    register("Carol" + suffix, "pw");
    register("carol" + suffix, "pw");
  }

  @Test
  void nameOfSixtyFourEmojiIsAccepted() {
    String name = "\uD83D\uDE00".repeat(56) + UUID.randomUUID().toString().substring(0, 8);
    int id = register(name, "pw");
    JsonObject login = bus.request(USER_LOGIN, new JsonObject().put("id", id).put("password", "pw"));
    assertEquals(name, login.getString("name"));
  }

  @Test
  void invalidRegistrationsAreRefused() {
    for (Object badName : new Object[] {"", "   ", "x".repeat(65), "a\u0001b", "line\nbreak", 42}) {
      bus.assertFails(INVALID_INPUT, USER_REGISTER,
          new JsonObject().put("name", badName).put("password", "pw"));
    }
    String name = uniqueName("pwcheck");
    for (Object badPassword : new Object[] {"", "p", "\uD83D\uDD11", "p".repeat(129), 1234}) {
      bus.assertFails(INVALID_INPUT, USER_REGISTER,
          new JsonObject().put("name", name).put("password", badPassword));
    }
    assertEquals("password too short", bus.assertFails(INVALID_INPUT, USER_REGISTER,
        new JsonObject().put("name", name).put("password", "p")));
    bus.assertFails(INVALID_INPUT, USER_REGISTER, new JsonObject().put("name", name));
    bus.assertFails(INVALID_INPUT, USER_REGISTER, new JsonObject().put("password", "pw"));
    bus.assertFails(INVALID_INPUT, USER_REGISTER, "not an object");
    // none of them created the account
    register(name, "p".repeat(128));
  }

  @Test
  void wrongPasswordAndUnknownUsersAreBadCredentials() {
    int id = register(uniqueName("eve"), "right");
    String text = bus.assertFails(BAD_CREDENTIALS, USER_LOGIN,
        new JsonObject().put("id", id).put("password", "wrong"));
    assertEquals("invalid id or password", text);
    bus.assertFails(BAD_CREDENTIALS, USER_LOGIN,
        new JsonObject().put("id", id).put("password", "Right"));
    bus.assertFails(BAD_CREDENTIALS, USER_LOGIN,
        new JsonObject().put("id", Integer.MAX_VALUE).put("password", "right"));
    bus.assertFails(BAD_CREDENTIALS, USER_LOGIN,
        new JsonObject().put("name", uniqueName("nobody")).put("password", "right"));
    bus.assertFails(BAD_CREDENTIALS, USER_LOGIN,
        new JsonObject().put("id", id).put("password", "x".repeat(10_000)));
  }

  @Test
  void malformedLoginsAreInvalidInput() {
    int id = register(uniqueName("mal"), "pw");
    bus.assertFails(INVALID_INPUT, USER_LOGIN, new JsonObject().put("id", id));
    bus.assertFails(INVALID_INPUT, USER_LOGIN,
        new JsonObject().put("id", String.valueOf(id)).put("password", "pw"));
    bus.assertFails(INVALID_INPUT, USER_LOGIN,
        new JsonObject().put("id", 1.5).put("password", "pw"));
    bus.assertFails(INVALID_INPUT, USER_LOGIN,
        new JsonObject().put("id", -3).put("password", "pw"));
    bus.assertFails(INVALID_INPUT, USER_LOGIN, new JsonObject().put("password", "pw"));
    bus.assertFails(INVALID_INPUT, USER_LOGIN,
        new JsonObject().put("id", id).put("password", 12));
    bus.assertFails(INVALID_INPUT, USER_LOGOUT, new JsonObject());
  }

  @Test
  void passwordIsStoredAsSaltedHash() throws Exception {
    String name = uniqueName("hashme");
    int id = register(name, "clear-text-pw");
    int twin = register(name + "-twin", "clear-text-pw");
    String stored = (String) DB.queryValue("SELECT password FROM `user` WHERE id = ?", id);
    String twinStored = (String) DB.queryValue("SELECT password FROM `user` WHERE id = ?", twin);
    assertFalse(stored.contains("clear-text-pw"), stored);
    assertTrue(stored.startsWith("pbkdf2-sha256$" + TestConfigs.TEST_ITERATIONS + "$"), stored);
    assertNotEquals(stored, twinStored, "same password, different salt, different hash");
    assertTrue(PasswordHasher.matches("clear-text-pw", stored));
  }

  @Test
  void newUserIsOfflineWithNoRevokedTokens() throws Exception {
    int id = register(uniqueName("fresh"), "pw");
    assertEquals("offline", DB.queryValue("SELECT state FROM `user` WHERE id = ?", id));
    assertEquals(0L, ((Number) DB.queryValue(
        "SELECT tokens_revoked_at FROM `user` WHERE id = ?", id)).longValue());
  }

  @Test
  void loginDoesNotTouchState() throws Exception {
    int id = register(uniqueName("stateless"), "pw");
    bus.request(USER_LOGIN, new JsonObject().put("id", id).put("password", "pw"));
    assertEquals("offline", DB.queryValue("SELECT state FROM `user` WHERE id = ?", id));
  }

  @Test
  void tokenLogsInAndIsRenewed() {
    String name = uniqueName("tok");
    int id = register(name, "pw");
    String token = bus.request(USER_LOGIN, new JsonObject().put("id", id).put("password", "pw"))
        .getString("token");

    JsonObject byId = bus.request(USER_LOGIN, new JsonObject().put("id", id).put("token", token));
    assertEquals(id, byId.getInteger("id"));
    assertEquals(name, byId.getString("name"));
    assertTrue(byId.getString("token").length() <= 64);

    JsonObject byName = bus.request(USER_LOGIN,
        new JsonObject().put("name", name).put("token", token));
    assertEquals(id, byName.getInteger("id"));
    // the renewed token works too
    bus.request(USER_LOGIN, new JsonObject().put("id", id).put("token", byId.getString("token")));
  }

  @Test
  void tokenOfOneAccountDoesNotOpenAnother() {
    int alice = register(uniqueName("ta"), "pw");
    int bob = register(uniqueName("tb"), "pw");
    String aliceToken = bus.request(USER_LOGIN,
        new JsonObject().put("id", alice).put("password", "pw")).getString("token");
    bus.assertFails(BAD_CREDENTIALS, USER_LOGIN,
        new JsonObject().put("id", bob).put("token", aliceToken));
  }

  @Test
  void forgedAndGarbledTokensAreRefused() {
    int id = register(uniqueName("forge"), "pw");
    String token = bus.request(USER_LOGIN, new JsonObject().put("id", id).put("password", "pw"))
        .getString("token");
    char[] chars = token.toCharArray();
    chars[10] = chars[10] == 'A' ? 'B' : 'A';
    for (String bad : new String[] {new String(chars), token + "AA", token.substring(1), "",
        "not a token", "x".repeat(500)}) {
      bus.assertFails(BAD_CREDENTIALS, USER_LOGIN,
          new JsonObject().put("id", id).put("token", bad));
    }
    bus.assertFails(INVALID_INPUT, USER_LOGIN, new JsonObject().put("id", id).put("token", 7));
  }

  @Test
  void logoutRevokesEarlierTokensOnly() {
    int id = register(uniqueName("out"), "pw");
    String first = bus.request(USER_LOGIN, new JsonObject().put("id", id).put("password", "pw"))
        .getString("token");
    String second = bus.request(USER_LOGIN, new JsonObject().put("id", id).put("token", first))
        .getString("token");

    assertEquals(new JsonObject(), bus.request(USER_LOGOUT, new JsonObject().put("userId", id)));

    bus.assertFails(BAD_CREDENTIALS, USER_LOGIN, new JsonObject().put("id", id).put("token", first));
    bus.assertFails(BAD_CREDENTIALS, USER_LOGIN,
        new JsonObject().put("id", id).put("token", second));
    // a login right after the logout (even within the same millisecond) gets a working token
    String fresh = bus.request(USER_LOGIN, new JsonObject().put("id", id).put("password", "pw"))
        .getString("token");
    bus.request(USER_LOGIN, new JsonObject().put("id", id).put("token", fresh));
  }

  /** A login record handed over in this process, as a gateway beside the service does. */
  private static Object loginRecord(Login request) {
    LocalRecords.register(vertx.eventBus());
    return vertx.eventBus().request(USER_LOGIN, request, LocalRecords.options(10_000))
        .await().body();
  }

  @Test
  void loginRecordsFromThisProcessAreCheckedAndAnsweredWithRecords() {
    String name = uniqueName("rec");
    int id = register(name, "pw");
    Login.Reply byPassword = assertInstanceOf(Login.Reply.class,
        loginRecord(new Login(id, null, "pw", null)));
    assertEquals(new Login.Reply(id, name, byPassword.token()), byPassword);
    Login.Reply byToken = assertInstanceOf(Login.Reply.class,
        loginRecord(new Login(null, name, null, byPassword.token())));
    assertEquals(id, byToken.id());
    Object data = vertx.eventBus().request(USER_LOGIN_DATA, new LoginData(id, 10),
        LocalRecords.options(10_000)).await().body();
    LoginData.Reply page = assertInstanceOf(LoginData.Reply.class, data);
    assertEquals(List.of(), page.profile().friends());
    assertEquals(List.of(), page.offline().messages());

    // wrong secrets and revoked tokens are refused as they are in JSON
    assertEquals(BAD_CREDENTIALS, refusal(new Login(id, null, "wrong", null)));
    assertEquals(BAD_CREDENTIALS, refusal(new Login(id, null, null, byPassword.token() + "A")));
    bus.request(USER_LOGOUT, new JsonObject().put("userId", id));
    assertEquals(BAD_CREDENTIALS, refusal(new Login(id, null, null, byPassword.token())));
    assertEquals(BAD_CREDENTIALS, refusal(new Login(id, null, null, byToken.token())));
  }

  private static int refusal(Login request) {
    try {
      loginRecord(request);
    } catch (ReplyException e) {
      return e.failureCode();
    }
    throw new AssertionError("accepted: " + request);
  }

  @Test
  void logoutOfUnknownUserIsHarmless() {
    assertEquals(new JsonObject(),
        bus.request(USER_LOGOUT, new JsonObject().put("userId", Integer.MAX_VALUE)));
  }

  @Test
  void pingAnswers() {
    assertEquals(new JsonObject(), bus.request(USER_PING, new JsonObject()));
    assertEquals(new JsonObject(), bus.request(USER_PING, null));
  }

  @Test
  void concurrentRegistrationsOfOneNameHaveOneWinner(Vertx vertx, VertxTestContext ctx) {
    String name = uniqueName("race");
    List<Future<Object>> attempts = List.of(1, 2, 3, 4).stream()
        .map(i -> vertx.eventBus().request(USER_REGISTER,
                new JsonObject().put("name", name).put("password", "pw" + i))
            .map(msg -> (Object) "registered")
            .recover(err -> Future.succeededFuture(((ReplyException) err).failureCode())))
        .collect(Collectors.toList());
    Future.all(attempts).onComplete(ctx.succeeding(all -> ctx.verify(() -> {
      List<Object> outcomes = attempts.stream().map(Future::result).toList();
      assertEquals(1, outcomes.stream().filter("registered"::equals).count(), outcomes::toString);
      assertEquals(3, outcomes.stream().filter(o -> o.equals(NAME_TAKEN)).count(),
          outcomes::toString);
      ctx.completeNow();
    })));
  }
}
