package chat.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import chat.node.TestDatabase.FreshDatabase;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Password guessing is throttled per account and per address: ERROR 429 with
 * retry_after_ms, the credentials not even checked; other accounts and token logins go on.
 * Each cluster has two nodes: failures spread over both count against one budget.
 */
@ExtendWith(TestDatabase.Extension.class)
@Timeout(90)
class LoginThrottleTest {

  private static TestNodes perAccount;
  private static TestNodes perAddress;
  private static ChatNode accountNode;
  private static ChatNode accountNodeB;
  private static ChatNode addressNode;
  private static ChatNode addressNodeB;

  @BeforeAll
  static void start(FreshDatabase database, FreshDatabase other) {
    perAccount = new TestNodes(database.url(), Map.of(
        "CHAT_LOGIN_THROTTLE_ACCOUNT", "5", "CHAT_LOGIN_THROTTLE_ADDRESS", "0"));
    accountNode = perAccount.start();
    accountNodeB = perAccount.start();
    perAddress = new TestNodes(other.url(), Map.of(
        "CHAT_LOGIN_THROTTLE_ACCOUNT", "0", "CHAT_LOGIN_THROTTLE_ADDRESS", "5"));
    addressNode = perAddress.start();
    addressNodeB = perAddress.start();
  }

  @AfterAll
  static void stop() {
    perAccount.close();
    perAddress.close();
  }

  private static JsonObject throttled(TestClient client, int id, String password) {
    client.send(new JsonObject().put("msgid", 1).put("id", id).put("password", password)
        .put("seq", "t"));
    return client.expect(m -> m.getInteger("msgid") == 104 || m.getInteger("msgid") == 2,
        "LOGIN ack or ERROR", Duration.ofSeconds(10));
  }

  @Test
  void anAccountThatFailsTooOftenWaitsWhileOthersAndTokensGoOn() {
    try (TcpTestClient guesser = TcpTestClient.lines(accountNode.tcpPort());
         TcpTestClient owner = TcpTestClient.lines(accountNode.tcpPort())) {
      int victim = guesser.register(TestNodes.unique("victim"), "secret");
      int bystander = guesser.register(TestNodes.unique("bystander"), "pw");
      String token = owner.loginOk(victim, "secret").getString("token");
      owner.close();
      for (int i = 0; i < 5; i++) {
        assertEquals(1, guesser.login(victim, "guess" + i).getInteger("errno"));
      }
      double before = Scrape.of(accountNode.httpPort()).value("chat_requests_refused_total",
          "reason", "login_throttled");
      // Five failures in a minute use the allowance; on a slow machine a little of it may
      // have come back meanwhile: a few more guesses use that up.
      JsonObject refused = throttled(guesser, victim, "guess");
      for (int i = 0; i < 5 && refused.getInteger("msgid") == 2; i++) {
        refused = throttled(guesser, victim, "guess");
      }
      refused = throttled(guesser, victim, "secret");
      assertEquals(104, refused.getInteger("msgid"), refused.encode());
      assertEquals(429, refused.getInteger("errno"));
      assertEquals(1, refused.getInteger("ref"));
      assertEquals("t", refused.getString("seq"));
      long retryAfter = refused.getLong("retry_after_ms");
      assertTrue(retryAfter > 0 && retryAfter <= 12_000, "retry_after_ms " + retryAfter);
      assertTrue(Scrape.of(accountNode.httpPort()).value("chat_requests_refused_total",
          "reason", "login_throttled") > before);

      try (TcpTestClient other = TcpTestClient.lines(accountNode.tcpPort())) {
        other.loginOk(bystander, "pw");
      }
      try (TcpTestClient resumed = TcpTestClient.lines(accountNode.tcpPort())) {
        resumed.send(new JsonObject().put("msgid", 1).put("id", victim).put("token", token));
        assertEquals(0, resumed.expect(2).getInteger("errno"), "a token login is not throttled");
      }
      Eventually.within(Duration.ofMillis(retryAfter + 3000),
          () -> assertEquals(2, throttled(guesser, victim, "secret").getInteger("msgid")));
    }
  }

  /**
   * Guesses a budget of 5 may still make {@code elapsedNanos} after its first failure: one
   * comes back every 12 s, so on a slow machine the throttle may rightly let one more pass.
   */
  private static int comeBack(long sinceNanos) {
    return (int) (Duration.ofNanos(System.nanoTime() - sinceNanos).toMillis() * 5 / 60_000);
  }

  @Test
  void failuresOfAnAccountOnTwoNodesUseOneBudget() {
    try (TcpTestClient onA = TcpTestClient.lines(accountNode.tcpPort());
         TcpTestClient onB = TcpTestClient.lines(accountNodeB.tcpPort())) {
      int victim = onA.register(TestNodes.unique("spread"), "secret");
      long first = System.nanoTime();
      // Three failures on A, two on B: neither node alone has seen five.
      for (int i = 0; i < 5; i++) {
        TcpTestClient guesser = i % 2 == 0 ? onA : onB;
        assertEquals(1, guesser.login(victim, "guess" + i).getInteger("errno"));
      }
      JsonObject refused = throttled(onB, victim, "guess");
      for (int extra = 0; refused.getInteger("msgid") == 2 && extra < comeBack(first); extra++) {
        refused = throttled(onB, victim, "guess");
      }
      assertEquals(104, refused.getInteger("msgid"), "node B let a sixth guess in: "
          + refused.encode());
      assertEquals(429, refused.getInteger("errno"));
      assertTrue(refused.getLong("retry_after_ms") > 0);
      JsonObject onFirst = throttled(onA, victim, "secret");
      assertEquals(429, onFirst.getInteger("errno"), "node A: " + onFirst.encode());
      assertTrue(onFirst.getLong("retry_after_ms") > 0);
    }
  }

  @Test
  void anAddressThatFailsOnManyAccountsOverTwoNodesWaits() {
    try (TcpTestClient onA = TcpTestClient.lines(addressNode.tcpPort());
         TcpTestClient onB = TcpTestClient.lines(addressNodeB.tcpPort())) {
      int[] targets = new int[5];
      for (int i = 0; i < targets.length; i++) {
        targets[i] = onA.register(TestNodes.unique("target"), "pw");
      }
      int fresh = onA.register(TestNodes.unique("fresh"), "pw");
      long first = System.nanoTime();
      for (int i = 0; i < targets.length; i++) {
        TcpTestClient guesser = i % 2 == 0 ? onA : onB;
        assertEquals(1, guesser.login(targets[i], "wrong").getInteger("errno"));
      }
      JsonObject refused = throttled(onB, fresh, "wrong");
      for (int extra = 0; refused.getInteger("msgid") == 2 && extra < comeBack(first); extra++) {
        refused = throttled(onB, fresh, "wrong");
      }
      assertEquals(429, refused.getInteger("errno"), "node B: " + refused.encode());
      assertTrue(refused.getLong("retry_after_ms") > 0);
      refused = throttled(onA, fresh, "pw");
      assertEquals(429, refused.getInteger("errno"), "node A: " + refused.encode());
      assertTrue(refused.getLong("retry_after_ms") > 0);
    }
  }
}
