package chat.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import chat.node.TestDatabase.FreshDatabase;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Two nodes behind nginx (deploy/nginx/nginx.conf): TCP and WebSocket clients through nginx
 * land on both nodes and chat; one node is killed and its clients come back through nginx on
 * the other. Skipped, saying why, only where nginx is not installed.
 */
@ExtendWith(TestDatabase.Extension.class)
@Timeout(180)
class NginxTest {

  private static final Logger LOG = LoggerFactory.getLogger(NginxTest.class);

  @TempDir
  Path dir;

  /** A client through nginx, the node it landed on, and its user. */
  private record Placed(TestClient client, String node, int userId) {
  }

  @Test
  void clientsThroughNginxOnBothNodesChatAndComeBackAfterANodeIsKilled(FreshDatabase database)
      throws Exception {
    NginxProcess.binary();
    try (TestNodes nodes = new TestNodes(database.url())) {
      ChatNode survivor = nodes.start();
      Map<String, String> env = new HashMap<>(TestNodes.baseSettings(database.url(),
          nodes.clusterName(), TestNodes.freePort()));
      env.put("CHAT_CLUSTER_MEMBERS", "127.0.0.1:" + nodes.clusterPorts().get(0));
      env.put("CHAT_NODE_ID", "doomed");
      try (NodeProcess doomed = NodeProcess.start(env);
           NginxProcess nginx = NginxProcess.start(dir,
               List.of(survivor.tcpPort(), doomed.tcpPort()),
               List.of(survivor.httpPort(), doomed.httpPort()))) {
        Map<String, Integer> http = Map.of("n1", survivor.httpPort(), "doomed", doomed.httpPort());
        List<Placed> clients = new ArrayList<>();
        try {
          for (String transport : List.of("tcp", "ws")) {
            for (int i = 0; i < 2; i++) {
              clients.add(place(transport, nginx, http));
            }
          }
          for (String transport : List.of("tcp", "ws")) {
            assertTrue(clients.stream().anyMatch(c -> c.node().equals("n1")
                    && transport(c).equals(transport)), transport + " client on n1: " + clients);
            assertTrue(clients.stream().anyMatch(c -> c.node().equals("doomed")
                    && transport(c).equals(transport)), transport + " client on doomed: " + clients);
          }
          // Everyone writes to everyone: across nodes and transports, all through nginx.
          chatAll(clients);

          long killedAt = System.nanoTime();
          doomed.kill();
          List<Placed> back = new ArrayList<>();
          for (Placed c : clients) {
            if (c.node().equals("doomed")) {
              assertTrue(c.client().awaitClosed(Duration.ofSeconds(10)),
                  "nginx closed the client of the killed node");
              c.client().close();
              back.add(relogin(transport(c), nginx, c.userId(), http));
            } else {
              back.add(c);
            }
          }
          LOG.info("clients of the killed node back through nginx in {} ms",
              (System.nanoTime() - killedAt) / 1_000_000);
          assertTrue(back.stream().allMatch(c -> c.node().equals("n1")), back.toString());
          chatAll(back);
          clients.clear();
          clients.addAll(back);
        } finally {
          clients.forEach(c -> c.client().close());
        }
      }
    }
  }

  private static String transport(Placed c) {
    return c.client() instanceof WsTestClient ? "ws" : "tcp";
  }

  /** Opens a client through nginx, registers and logs in, and finds which node it is on. */
  private static Placed place(String transport, NginxProcess nginx, Map<String, Integer> http) {
    TestClient client = open(transport, nginx);
    int id = client.register(TestNodes.unique("nginx-" + transport), "pw");
    Map<String, Double> before = loginsOk(http);
    client.loginOk(id, "pw");
    return new Placed(client, loggedInOn(before, http), id);
  }

  /** Logs the user in again through nginx, retrying while nginx finds the live node. */
  private static Placed relogin(String transport, NginxProcess nginx, int id,
                                Map<String, Integer> http) {
    Map<String, Integer> live = Map.of("n1", http.get("n1"));
    TestClient[] client = new TestClient[1];
    Map<String, Double> before = loginsOk(live);
    Eventually.within(Duration.ofSeconds(15), () -> {
      client[0] = open(transport, nginx);
      try {
        client[0].loginOk(id, "pw");
      } catch (AssertionError | RuntimeException e) {
        client[0].close();
        throw e;
      }
    });
    return new Placed(client[0], loggedInOn(before, live), id);
  }

  private static TestClient open(String transport, NginxProcess nginx) {
    return transport.equals("tcp") ? TcpTestClient.lines(nginx.tcpPort)
        : WsTestClient.connect(nginx.httpPort);
  }

  /** Each node's successful logins, read on the node itself (not through nginx). */
  private static Map<String, Double> loginsOk(Map<String, Integer> http) {
    Map<String, Double> counts = new HashMap<>();
    http.forEach((node, port) ->
        counts.put(node, Scrape.of(port).value("chat_logins_total", "result", "ok")));
    return counts;
  }

  /** The node whose login count grew since {@code before}: where the last login landed. */
  private static String loggedInOn(Map<String, Double> before, Map<String, Integer> http) {
    Map<String, Double> after = loginsOk(http);
    List<String> grew = new ArrayList<>();
    after.forEach((node, count) -> {
      if (count > before.get(node)) {
        grew.add(node);
      }
    });
    assertEquals(1, grew.size(), "one node took the login: " + before + " -> " + after);
    return grew.get(0);
  }

  private static void chatAll(List<Placed> clients) {
    for (Placed from : clients) {
      for (Placed to : clients) {
        if (from != to) {
          String text = "from " + from.userId() + " to " + to.userId();
          from.client().chat(to.userId(), text);
          assertEquals(text, to.client().expect(m -> m.getInteger("msgid") == 6
              && text.equals(m.getString("msg")), text, Duration.ofSeconds(10)).getString("msg"));
        }
      }
    }
  }
}
