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
 */
@ExtendWith(TestDatabase.Extension.class)
@Timeout(90)
class LoginThrottleTest {

  private static TestNodes perAccount;
  private static TestNodes perAddress;
  private static ChatNode accountNode;
  private static ChatNode addressNode;

  @BeforeAll
  static void start(FreshDatabase database, FreshDatabase other) {
    perAccount = new TestNodes(database.url(), Map.of(
        "CHAT_LOGIN_THROTTLE_ACCOUNT", "5", "CHAT_LOGIN_THROTTLE_ADDRESS", "0"));
    accountNode = perAccount.start();
    perAddress = new TestNodes(other.url(), Map.of(
        "CHAT_LOGIN_THROTTLE_ACCOUNT", "0", "CHAT_LOGIN_THROTTLE_ADDRESS", "5"));
    addressNode = perAddress.start();
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

  @Test
  void anAddressThatFailsOnManyAccountsWaits() {
    try (TcpTestClient guesser = TcpTestClient.lines(addressNode.tcpPort())) {
      for (int i = 0; i < 5; i++) {
        int id = guesser.register(TestNodes.unique("target"), "pw");
        assertEquals(1, guesser.login(id, "wrong").getInteger("errno"));
      }
      int fresh = guesser.register(TestNodes.unique("fresh"), "pw");
      JsonObject refused = throttled(guesser, fresh, "pw");
      assertEquals(429, refused.getInteger("errno"), refused.encode());
      assertTrue(refused.getLong("retry_after_ms") > 0);
    }
  }
}
