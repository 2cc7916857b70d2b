package chat.user;

import static chat.protocol.bus.Addresses.USER_LOGIN;
import static chat.protocol.bus.Addresses.USER_REGISTER;
import static chat.protocol.bus.FailureCodes.OVERLOADED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import chat.user.repo.SchemaMigration;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.ReplyException;
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
 * Password work has its own bounded capacity: a flood of registrations is either served
 * (account created) or refused OVERLOADED at once (nothing created), and token logins go on
 * meanwhile without waiting behind the hashing.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 120, timeUnit = TimeUnit.SECONDS)
class PasswordAdmissionTest {

  @RegisterExtension
  static final TestDatabase DB = new TestDatabase();

  /** Slow enough that the flood outruns one thread by far. */
  static final int ITERATIONS = 300_000;
  static final int THREADS = 1;
  static final int QUEUE = 2;

  private static Vertx vertx;
  private static BusClient bus;

  @BeforeAll
  static void deploy(Vertx v) {
    vertx = v;
    SchemaMigration.migrate(DB.url());
    UserConfig config = new UserConfig(DB.url(), 4, ITERATIONS,
        UserConfig.DEFAULT_TOKEN_TTL_SECONDS, null)
        .withPasswordExecutor(THREADS, QUEUE);
    // two instances share the node's one password executor
    vertx.deployVerticle(() -> new UserVerticle(config),
        new io.vertx.core.DeploymentOptions().setInstances(2)).await();
    bus = new BusClient(vertx);
  }

  private static Future<JsonObject> request(String address, JsonObject body) {
    return vertx.eventBus().<JsonObject>request(address, body).map(m -> m.body());
  }

  private static boolean exists(String name) {
    try {
      return DB.queryValue("SELECT id FROM `user` WHERE name = ?", name) != null;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void aFloodIsServedOrRefusedAndTokenLoginsGoOn() {
    String name = "tok-" + UUID.randomUUID().toString().substring(0, 8);
    int id = bus.request(USER_REGISTER, new JsonObject().put("name", name).put("password", "pw"))
        .getInteger("id");
    String token = bus.request(USER_LOGIN, new JsonObject().put("id", id).put("password", "pw"))
        .getString("token");

    int flood = 40;
    List<String> names = new ArrayList<>();
    List<Future<JsonObject>> answers = new ArrayList<>();
    for (int i = 0; i < flood; i++) {
      String n = "flood-" + i + "-" + UUID.randomUUID().toString().substring(0, 8);
      names.add(n);
      answers.add(request(USER_REGISTER, new JsonObject().put("name", n).put("password", "pw")));
    }
    // while the admitted ones hash: a password login is refused at once, a token login is served
    ReplyException refused = bus.failure(USER_LOGIN,
        new JsonObject().put("id", id).put("password", "pw"));
    assertEquals(OVERLOADED, refused.failureCode());
    JsonObject byToken = bus.request(USER_LOGIN,
        new JsonObject().put("id", id).put("token", token));
    assertEquals(id, byToken.getInteger("id"));
    long stillHashing = answers.stream().filter(f -> !f.isComplete()).count();
    assertTrue(stillHashing > 0, "the token login waited for the password work");

    Future.join(answers).otherwiseEmpty().await();
    int created = 0;
    int overloaded = 0;
    for (int i = 0; i < flood; i++) {
      Future<JsonObject> answer = answers.get(i);
      if (answer.succeeded()) {
        created++;
        assertTrue(exists(names.get(i)), "answered created but missing: " + names.get(i));
      } else {
        ReplyException e = (ReplyException) answer.cause();
        assertEquals(OVERLOADED, e.failureCode(), e::toString);
        overloaded++;
        assertFalse(exists(names.get(i)), "refused but created: " + names.get(i));
      }
    }
    assertTrue(created >= THREADS && created <= flood - 1, "created " + created);
    assertTrue(overloaded > 0, "nothing was refused");
    // once the work is done there is room again
    assertEquals(id, bus.request(USER_LOGIN, new JsonObject().put("id", id).put("password", "pw"))
        .getInteger("id"));
  }
}
