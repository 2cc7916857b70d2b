package chat.user;

import static chat.protocol.bus.Addresses.USER_LOGIN;
import static chat.protocol.bus.Addresses.USER_REGISTER;
import static chat.protocol.bus.FailureCodes.BAD_CREDENTIALS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import chat.user.repo.SchemaMigration;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Without a configured secret, nodes share one generated secret through the database, so a
 * token issued by one node is accepted by another. Each node here is its own Vert.x instance.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class ClusterSecretTest {

  @RegisterExtension
  static final TestDatabase DB = new TestDatabase();

  private static Vertx nodeB;
  private static Vertx nodeC;
  private static BusClient busA;
  private static BusClient busB;
  private static BusClient busC;

  @BeforeAll
  static void deploy(Vertx nodeA) {
    SchemaMigration.migrate(DB.url());
    nodeB = Vertx.vertx();
    nodeC = Vertx.vertx();
    UserConfig shared = TestConfigs.forDatabase(DB.url());
    // A and B start at the same time and race to store the secret
    Future.all(
        nodeA.deployVerticle(new UserVerticle(shared)),
        nodeB.deployVerticle(new UserVerticle(shared))).await();
    UserConfig own = new UserConfig(DB.url(), 2, TestConfigs.TEST_ITERATIONS,
        UserConfig.DEFAULT_TOKEN_TTL_SECONDS, "a secret of node C, not the cluster's");
    nodeC.deployVerticle(new UserVerticle(own)).await();
    busA = new BusClient(nodeA);
    busB = new BusClient(nodeB);
    busC = new BusClient(nodeC);
  }

  @AfterAll
  static void closeNodes() {
    Future.all(nodeB.close(), nodeC.close()).await();
  }

  @Test
  void tokenFromOneNodeWorksOnAnother() throws Exception {
    int id = busA.request(USER_REGISTER, new JsonObject().put("name", "roamer").put("password", "pw"))
        .getInteger("id");
    String token = busA.request(USER_LOGIN, new JsonObject().put("id", id).put("password", "pw"))
        .getString("token");
    assertEquals(id, busB.request(USER_LOGIN, new JsonObject().put("id", id).put("token", token))
        .getInteger("id"));
    // a node signing with another secret refuses it
    busC.assertFails(BAD_CREDENTIALS, USER_LOGIN,
        new JsonObject().put("id", id).put("token", token));

    Number secrets = (Number) DB.queryValue("SELECT COUNT(*) FROM cluster_secret");
    assertEquals(1, secrets.intValue());
    String secret = (String) DB.queryValue("SELECT secret FROM cluster_secret");
    assertTrue(secret.length() >= 32, "a long random secret");
  }
}
