package chat.user;

import static chat.protocol.bus.Addresses.USER_LOGIN;
import static chat.protocol.bus.Addresses.USER_LOGOUT;
import static chat.protocol.bus.Addresses.USER_REGISTER;
import static chat.protocol.bus.FailureCodes.BAD_CREDENTIALS;
import static org.junit.jupiter.api.Assertions.assertEquals;

import chat.user.repo.SchemaMigration;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Token expiry and revocation, on a clock the test moves. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class TokenLifetimeTest {

  @RegisterExtension
  static final TestDatabase DB = new TestDatabase();

  private static final long TTL_SECONDS = 600;
  private static final MutableClock CLOCK = new MutableClock(1_800_000_000_000L);

  private static BusClient bus;

  @BeforeAll
  static void deploy(Vertx vertx) {
    SchemaMigration.migrate(DB.url());
    UserConfig config = new UserConfig(DB.url(), 2, TestConfigs.TEST_ITERATIONS, TTL_SECONDS,
        "a test secret of enough length");
    vertx.deployVerticle(new UserVerticle(config, CLOCK)).await();
    bus = new BusClient(vertx);
  }

  private static int register() {
    String name = "t-" + UUID.randomUUID().toString().substring(0, 12);
    return bus.request(USER_REGISTER, new JsonObject().put("name", name).put("password", "pw"))
        .getInteger("id");
  }

  private static String passwordLogin(int id) {
    return bus.request(USER_LOGIN, new JsonObject().put("id", id).put("password", "pw"))
        .getString("token");
  }

  private static JsonObject tokenLogin(int id, String token) {
    return bus.request(USER_LOGIN, new JsonObject().put("id", id).put("token", token));
  }

  @Test
  void tokenExpiresAfterTtl() {
    int id = register();
    String token = passwordLogin(id);
    CLOCK.advance(Duration.ofSeconds(TTL_SECONDS - 1));
    assertEquals(id, tokenLogin(id, token).getInteger("id"));
    CLOCK.advance(Duration.ofSeconds(1));
    bus.assertFails(BAD_CREDENTIALS, USER_LOGIN, new JsonObject().put("id", id).put("token", token));
    // the password still works
    passwordLogin(id);
  }

  @Test
  void renewedTokenRestartsTheTtl() {
    int id = register();
    String first = passwordLogin(id);
    CLOCK.advance(Duration.ofSeconds(TTL_SECONDS / 2));
    String renewed = tokenLogin(id, first).getString("token");
    CLOCK.advance(Duration.ofSeconds(TTL_SECONDS / 2 + 1));
    bus.assertFails(BAD_CREDENTIALS, USER_LOGIN, new JsonObject().put("id", id).put("token", first));
    assertEquals(id, tokenLogin(id, renewed).getInteger("id"));
  }

  @Test
  void logoutRevokesTokensOfTheSameMillisecond() throws Exception {
    int id = register();
    String token = passwordLogin(id);
    // the clock does not move: the logout happens in the very millisecond the token was issued
    bus.request(USER_LOGOUT, new JsonObject().put("userId", id));
    bus.assertFails(BAD_CREDENTIALS, USER_LOGIN, new JsonObject().put("id", id).put("token", token));
    assertEquals(CLOCK.millis(), ((Number) DB.queryValue(
        "SELECT tokens_revoked_at FROM `user` WHERE id = ?", id)).longValue());

    // a login in that same millisecond still gets a token that works
    String fresh = passwordLogin(id);
    assertEquals(id, tokenLogin(id, fresh).getInteger("id"));
  }

  @Test
  void revocationNeverMovesBackwards() throws Exception {
    int id = register();
    long future = CLOCK.millis() + 60_000;
    DB.update("UPDATE `user` SET tokens_revoked_at = ? WHERE id = ?", future, id);
    bus.request(USER_LOGOUT, new JsonObject().put("userId", id));
    assertEquals(future, ((Number) DB.queryValue(
        "SELECT tokens_revoked_at FROM `user` WHERE id = ?", id)).longValue());
    // a token issued now is still issued after the revocation, so it works
    assertEquals(id, tokenLogin(id, passwordLogin(id)).getInteger("id"));
  }
}
