package chat.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import chat.node.TestDatabase.FreshDatabase;
import chat.protocol.bus.Addresses;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Every series of {@code /metrics} that a client or an operator can cause moves when it is
 * caused: each step reads the node's metrics, does one thing and reads them again.
 */
@ExtendWith(TestDatabase.Extension.class)
@Timeout(120)
class MetricsTest {

  private static TestNodes nodes;
  private static ChatNode node;
  private static int http;
  private static String dbUrl;

  @BeforeAll
  static void start(FreshDatabase database) {
    dbUrl = database.url();
    nodes = new TestNodes(dbUrl, Map.of(
        "CHAT_HEARTBEAT_INTERVAL_S", "1",
        "CHAT_HEARTBEAT_TIMEOUT_S", "2",
        "CHAT_AUTH_TIMEOUT_S", "2",
        "CHAT_RATE_LIMIT", "20",
        "CHAT_MAX_FRAME", "2048"));
    node = nodes.start();
    http = node.httpPort();
  }

  @AfterAll
  static void stop() {
    nodes.close();
  }

  /** Asserts that {@code action} raises the series by at least {@code by}. */
  private static void moves(double by, String name, String[] labels, Runnable action) {
    double before = Scrape.of(http).value(name, labels);
    action.run();
    Eventually.within(Duration.ofSeconds(5), () -> {
      double after = Scrape.of(http).value(name, labels);
      assertTrue(after - before >= by, name + " " + String.join(",", labels) + " went from "
          + before + " to " + after + ", expected +" + by);
    });
  }

  private static String[] labels(String... pairs) {
    return pairs;
  }

  @Test
  void jvmProcessNettyClusterAndBuildSeriesAreThere() {
    // GC pauses are counted from the first collection on: make sure there has been one.
    System.gc();
    Eventually.within(java.time.Duration.ofSeconds(10),
        () -> assertTrue(Scrape.of(http).has("jvm_gc_pause_seconds_count"), "no GC pause yet"));
    Scrape scrape = Scrape.of(http);
    for (String name : new String[] {"jvm_memory_used_bytes", "jvm_gc_pause_seconds_count",
        "jvm_threads_live_threads", "jvm_classes_loaded_classes", "process_cpu_usage",
        "process_uptime_seconds", "process_files_open_files", "system_cpu_count",
        "netty_allocator_memory_used", "netty_direct_memory_used_bytes", "chat_build_info",
        "chat_cluster_members", "chat_sessions_online", "vertx_eventbus_handlers",
        "chat_presence_mirror_backlog", "chat_presence_users_online"}) {
      assertTrue(scrape.has(name), name + " missing from /metrics: " + scrape.names());
    }
    assertEquals(1.0, scrape.value("chat_cluster_members", "node", "n1"));
    assertTrue(scrape.value("jvm_memory_used_bytes", "area", "heap") > 0);
  }

  @Test
  void connectionsSessionsLoginsRegistrationsAndMessagesMove() {
    try (TcpTestClient tcp = TcpTestClient.lines(node.tcpPort());
         WsTestClient ws = WsTestClient.connect(http)) {
      Eventually.within(Duration.ofSeconds(5), () -> {
        Scrape s = Scrape.of(http);
        assertTrue(s.value("chat_connections", "transport", "tcp") >= 1, "tcp connections");
        assertTrue(s.value("chat_connections", "transport", "ws") >= 1, "ws connections");
      });
      int[] ids = new int[2];
      moves(2, "chat_registrations_total", labels("result", "ok"), () -> {
        ids[0] = tcp.register(TestNodes.unique("m-tcp"), "pw");
        ids[1] = ws.register(TestNodes.unique("m-ws"), "pw");
      });
      String taken = TestNodes.unique("m-taken");
      tcp.register(taken, "pw");
      moves(1, "chat_registrations_total", labels("result", "refused"), () -> {
        tcp.send(new JsonObject().put("msgid", 4).put("name", taken).put("password", "pw"));
        assertEquals(1, tcp.expect(5).getInteger("errno"));
      });
      moves(1, "chat_logins_total", labels("result", "bad_credentials"),
          () -> assertEquals(1, tcp.login(ids[0], "wrong").getInteger("errno")));
      double online = Scrape.of(http).value("chat_sessions_online");
      String[] token = new String[1];
      moves(2, "chat_logins_total", labels("result", "ok"), () -> {
        token[0] = tcp.loginOk(ids[0], "pw").getString("token");
        ws.loginOk(ids[1], "pw");
      });
      assertTrue(Scrape.of(http).value("chat_sessions_online") >= online + 2);
      assertTrue(Scrape.of(http).value("chat_users") >= 2, "distinct users online");
      moves(1, "chat_messages_in_total", labels("type", "one_chat"), () -> {
        tcp.chat(ids[1], "hello");
        assertEquals("hello", ws.expect(6).getString("msg"));
      });
      Eventually.within(Duration.ofSeconds(5), () -> {
        Scrape after = Scrape.of(http);
        assertTrue(after.value("chat_messages_out_total", "type", "one_chat") >= 1);
        assertTrue(after.value("chat_delivery_seconds_count", "type", "one_chat") >= 1);
        assertTrue(after.has("chat_delivery_seconds_bucket"), "delivery latency histogram");
      });
      moves(1, "chat_login_attempts_total", labels("method", "token"), () -> {
        tcp.send(new JsonObject().put("msgid", 3).put("seq", 1));
        tcp.expect(105);
        tcp.send(new JsonObject().put("msgid", 1).put("id", ids[0]).put("token", token[0]));
        tcp.expect(2);
      });
    }
  }

  @Test
  void offlineMessagesAreCountedWhenStoredAndWhenDelivered() {
    int away;
    try (TcpTestClient absent = TcpTestClient.lines(node.tcpPort())) {
      away = absent.register(TestNodes.unique("m-away"), "pw");
    }
    try (TcpTestClient sender = TcpTestClient.lines(node.tcpPort())) {
      int me = sender.register(TestNodes.unique("m-sender"), "pw");
      sender.loginOk(me, "pw");
      moves(2, "chat_offline_messages_stored_total", labels(), () -> {
        sender.send(new JsonObject().put("msgid", 6).put("toid", away).put("msg", "one")
            .put("seq", 1));
        sender.expect(105);
        sender.send(new JsonObject().put("msgid", 6).put("toid", away).put("msg", "two")
            .put("seq", 2));
        sender.expect(105);
      });
    }
    try (TcpTestClient back = TcpTestClient.lines(node.tcpPort())) {
      moves(2, "chat_offline_messages_delivered_total", labels(),
          () -> assertEquals(2, back.loginOk(away, "pw").getJsonArray("offlinemsg").size()));
    }
  }

  @Test
  void theUsersTheMapShowsOnlineAreCounted() {
    // Counted every 5 s by a scan of this member's entries; the other tests' users are gone.
    Duration scan = Duration.ofSeconds(12);
    Eventually.within(scan, () -> assertEquals(0.0,
        Scrape.of(http).value("chat_presence_users_online")));
    try (TcpTestClient client = TcpTestClient.lines(node.tcpPort())) {
      int me = client.register(TestNodes.unique("m-counted"), "pw");
      client.loginOk(me, "pw");
      Eventually.within(scan, () -> assertEquals(1.0,
          Scrape.of(http).value("chat_presence_users_online")));
    }
    Eventually.within(scan, () -> assertEquals(0.0,
        Scrape.of(http).value("chat_presence_users_online")));
  }

  @Test
  void aRowTheReconciliationRepairsIsCounted() {
    int wrong;
    try (TcpTestClient client = TcpTestClient.lines(node.tcpPort())) {
      wrong = client.register(TestNodes.unique("m-row"), "pw");
    }
    // A row that says online for a user with no session: a ghost the reconciliation removes.
    moves(1, "chat_presence_repairs_total", labels("kind", "db_row"), () -> {
      new Db(dbUrl).update("UPDATE user SET state = 'online' WHERE id = ?", wrong);
      Eventually.within(Duration.ofSeconds(15),
          () -> assertEquals("offline", new Db(dbUrl).state(wrong)));
    });
  }

  @Test
  void acknowledgedOfflinePagesAreCounted() {
    int away;
    try (TcpTestClient absent = TcpTestClient.lines(node.tcpPort())) {
      away = absent.register(TestNodes.unique("m-acks"), "pw");
    }
    try (TcpTestClient sender = TcpTestClient.lines(node.tcpPort())) {
      int me = sender.register(TestNodes.unique("m-acker"), "pw");
      sender.loginOk(me, "pw");
      sender.send(new JsonObject().put("msgid", 6).put("toid", away).put("msg", "kept")
          .put("seq", 1));
      sender.expect(105);
    }
    try (TcpTestClient back = TcpTestClient.lines(node.tcpPort())) {
      back.send(new JsonObject().put("msgid", 1).put("id", away).put("password", "pw")
          .put("offline", "ack"));
      JsonObject login = back.expect(2);
      assertEquals(0, login.getInteger("errno"), login::encode);
      String msgno = new JsonObject(login.getJsonArray("offlinemsg").getString(0))
          .getString("msgno");
      moves(1, "chat_offline_acks_total", labels(), () -> {
        back.send(new JsonObject().put("msgid", 109).put("upto", msgno));
        JsonObject ack = back.expect(105);
        assertEquals(109, ack.getInteger("ref"), ack::encode);
        assertEquals(false, ack.getBoolean("offline_more"), ack::encode);
      });
    }
  }

  @Test
  void kicksConflictsAndTimeoutsAreCounted() {
    try (TcpTestClient first = TcpTestClient.lines(node.tcpPort());
         TcpTestClient second = TcpTestClient.lines(node.tcpPort())) {
      int id = first.register(TestNodes.unique("m-kicked"), "pw");
      first.loginOk(id, "pw");
      moves(1, "chat_kicks_total", labels(), () -> second.loginOk(id, "pw"));
      assertTrue(Scrape.of(http).value("chat_login_conflicts_total", "outcome", "kicked") >= 1);
      assertTrue(Scrape.of(http).value("chat_disconnects_total", "reason", "kicked") >= 1);
    }
    moves(1, "chat_auth_timeouts_total", labels(), () -> {
      try (TcpTestClient visitor = TcpTestClient.lines(node.tcpPort())) {
        assertTrue(visitor.awaitClosed(Duration.ofSeconds(5)));
      }
    });
    moves(1, "chat_heartbeat_timeouts_total", labels(), () -> {
      try (TcpTestClient pinger = TcpTestClient.lines(node.tcpPort())) {
        int id = pinger.register(TestNodes.unique("m-silent"), "pw");
        pinger.send(new JsonObject().put("msgid", 1).put("id", id).put("password", "pw")
            .put("heartbeat", true));
        pinger.expect(2);
        assertTrue(pinger.awaitClosed(Duration.ofSeconds(6)));
      }
    });
  }

  @Test
  void rateLimitedAndTooLargeRequestsAreCounted() {
    moves(1, "chat_requests_refused_total", labels("reason", "rate_limited"), () -> {
      try (TcpTestClient flooder = TcpTestClient.lines(node.tcpPort())) {
        StringBuilder burst = new StringBuilder();
        for (int i = 0; i < 100; i++) {
          burst.append(new JsonObject().put("msgid", 100).put("seq", i).encode()).append('\n');
        }
        flooder.sendRaw(burst.toString());
        flooder.expect(m -> m.getInteger("errno", 0) == 429, "ERROR 429", Duration.ofSeconds(5));
      }
    });
    moves(1, "chat_requests_refused_total", labels("reason", "too_large"), () -> {
      try (TcpTestClient big = TcpTestClient.lines(node.tcpPort())) {
        big.sendRaw("{\"msgid\":6,\"msg\":\"" + "x".repeat(4000) + "\"}\n");
        assertTrue(big.awaitClosed(Duration.ofSeconds(5)));
      }
    });
  }

  @Test
  void busRequestFailuresAreCountedByAddress() {
    // A gateway alone in its cluster: no user service answers anywhere.
    try (TestNodes alone = new TestNodes("mysql://nobody:x@127.0.0.1:1/none",
        Map.of("CHAT_ROLES", "gateway"))) {
      ChatNode gateway = alone.start();
      int port = gateway.httpPort();
      double before = Scrape.of(port).value("chat_bus_request_failures_total",
          "address", Addresses.USER_LOGIN, "failure", "no_handlers");
      try (TcpTestClient client = TcpTestClient.lines(gateway.tcpPort())) {
        client.send(new JsonObject().put("msgid", 1).put("id", 1).put("password", "pw"));
        assertEquals(503, client.expect(104).getInteger("errno"));
      }
      Eventually.within(Duration.ofSeconds(5), () -> assertTrue(Scrape.of(port).value(
          "chat_bus_request_failures_total", "address", Addresses.USER_LOGIN,
          "failure", "no_handlers") > before));
    }
  }

  @Test
  void aKilledNodeIsSweptAndItsSessionsReaped() {
    Map<String, String> env = new HashMap<>(TestNodes.baseSettings(
        dbUrl, nodes.clusterName(), TestNodes.freePort()));
    env.put("CHAT_CLUSTER_MEMBERS", "127.0.0.1:" + nodes.clusterPorts().get(0));
    env.put("CHAT_NODE_ID", "m-doomed");
    try (NodeProcess doomed = NodeProcess.start(env)) {
      Eventually.within(Duration.ofSeconds(10),
          () -> assertEquals(2.0, Scrape.of(http).value("chat_cluster_members")));
      try (TcpTestClient client = TcpTestClient.lines(doomed.tcpPort())) {
        int id = client.register(TestNodes.unique("m-doomed"), "pw");
        client.loginOk(id, "pw");
        Supplier<Double> reaped = () -> Scrape.of(http).value("chat_sessions_reaped_total");
        double before = reaped.get();
        double sweeps = Scrape.of(http).value("chat_node_loss_sweeps_total");
        doomed.kill();
        Eventually.within(Duration.ofSeconds(15), () -> {
          assertTrue(reaped.get() >= before + 1, "sessions reaped");
          assertTrue(Scrape.of(http).value("chat_node_loss_sweeps_total") >= sweeps + 1);
          assertEquals(1.0, Scrape.of(http).value("chat_cluster_members"));
        });
      }
    }
  }
}
