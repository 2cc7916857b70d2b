package chat.user;

import static chat.protocol.bus.Addresses.USER_LOGIN;
import static chat.protocol.bus.Addresses.USER_PING;
import static chat.protocol.bus.Addresses.USER_PROFILE;
import static chat.protocol.bus.Addresses.USER_REGISTER;
import static chat.protocol.bus.FailureCodes.DATABASE_UNAVAILABLE;
import static chat.protocol.bus.FailureCodes.INVALID_INPUT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import java.net.ServerSocket;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** With no database behind it, the service still answers: DATABASE_UNAVAILABLE, quickly. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class DatabaseUnavailableTest {

  private static BusClient bus;

  @BeforeAll
  static void deploy(Vertx vertx) throws Exception {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0)) {
      closedPort = socket.getLocalPort();
    }
    UserConfig config = new UserConfig("mysql://nobody:pw@127.0.0.1:" + closedPort + "/chat", 2,
        TestConfigs.TEST_ITERATIONS, 60, "a configured secret, so start-up needs no database");
    vertx.deployVerticle(new UserVerticle(config)).await();
    bus = new BusClient(vertx);
  }

  @Test
  void requestsFailAsDatabaseUnavailable() {
    String text = bus.assertFails(DATABASE_UNAVAILABLE, USER_PING, new JsonObject());
    assertFalse(text.contains("nobody"), text);
    bus.assertFails(DATABASE_UNAVAILABLE, USER_REGISTER,
        new JsonObject().put("name", "n").put("password", "pw"));
    bus.assertFails(DATABASE_UNAVAILABLE, USER_LOGIN,
        new JsonObject().put("id", 1).put("password", "pw"));
    bus.assertFails(DATABASE_UNAVAILABLE, USER_PROFILE, new JsonObject().put("userId", 1));
  }

  @Test
  void malformedRequestsAreStillInvalidInput() {
    bus.assertFails(INVALID_INPUT, USER_PROFILE, new JsonObject().put("userId", "one"));
    assertEquals(INVALID_INPUT, bus.failure(USER_LOGIN, "text").failureCode());
  }

  @Test
  void startFailsWithoutDatabaseWhenTheSecretMustComeFromIt(Vertx vertx) throws Exception {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0)) {
      closedPort = socket.getLocalPort();
    }
    UserConfig config = UserConfig.of("mysql://nobody:pw@127.0.0.1:" + closedPort + "/chat");
    Throwable failure = vertx.deployVerticle(new UserVerticle(config))
        .map(id -> (Throwable) null)
        .otherwise(err -> err)
        .await();
    assertFalse(failure == null, "deployment should fail");
  }
}
