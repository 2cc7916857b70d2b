package chat.node;

import chat.node.TestDatabase.FreshDatabase;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the cluster-wide login throttle costs a login, measured rather than asserted (its
 * name keeps it out of the build's tests): two nodes, clients on the second; failed and good
 * password logins with the throttle off and on, twice each in turn (the first round warms
 * the JVM up). Run with
 * {@code mvn -q -o -B -pl deploy -am test -Dtest=LoginThrottleCost
 * -Dsurefire.failIfNoSpecifiedTests=false} and read the lines logged with "login cost".
 */
@ExtendWith(TestDatabase.Extension.class)
class LoginThrottleCost {

  private static final Logger LOG = LoggerFactory.getLogger(LoginThrottleCost.class);

  @Test
  void measure(FreshDatabase on, FreshDatabase off) {
    for (int round = 0; round < 2; round++) {
      measure(off.url(), "off", "0");
      measure(on.url(), "on", "1000");
    }
  }

  private static void measure(String url, String label, String limit) {
    try (TestNodes nodes = new TestNodes(url, Map.of("CHAT_LOGIN_THROTTLE_ACCOUNT", limit,
        "CHAT_LOGIN_THROTTLE_ADDRESS", limit))) {
      nodes.start();
      ChatNode second = nodes.start();
      try (TcpTestClient client = TcpTestClient.lines(second.tcpPort())) {
        int id = client.register(TestNodes.unique("cost"), "pw");
        for (int i = 0; i < 50; i++) {
          client.login(id, "warm-up");
        }
        long[] failed = new long[200];
        for (int i = 0; i < failed.length; i++) {
          long started = System.nanoTime();
          client.login(id, "wrong" + i);
          failed[i] = (System.nanoTime() - started) / 1000;
        }
        long[] good = new long[100];
        for (int i = 0; i < good.length; i++) {
          int user = client.register(TestNodes.unique("good"), "pw");
          try (TcpTestClient fresh = TcpTestClient.lines(second.tcpPort())) {
            fresh.send(new JsonObject().put("msgid", 100));
            fresh.expect(m -> true, "PING reply", Duration.ofSeconds(5));
            long started = System.nanoTime();
            fresh.loginOk(user, "pw");
            good[i] = (System.nanoTime() - started) / 1000;
          }
        }
        Arrays.sort(failed);
        Arrays.sort(good);
        LOG.warn("login cost, throttle {}: failed login p50 {} us, p90 {} us, p99 {} us;"
                + " good login p50 {} us, p90 {} us, p99 {} us", label, failed[100],
            failed[180], failed[198], good[50], good[90], good[98]);
      }
    }
  }
}
