package chat.node;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A cluster of node processes with fixed cluster and event-bus ports (so a test can cut one
 * node off by its ports), each slot restartable; and the clients the test opened on them.
 */
final class ProcessCluster implements AutoCloseable {

  private final String dbUrl;
  private final String clusterName = "pc-" + UUID.randomUUID();
  private final int[] clusterPorts;
  private final int[] eventBusPorts;
  private final NodeProcess[] nodes;
  private final Map<String, String> common;
  private final List<NodeProcess> started = new CopyOnWriteArrayList<>();
  private final List<TestClient> clients = new CopyOnWriteArrayList<>();

  ProcessCluster(String dbUrl, int size, Map<String, String> common) {
    this.dbUrl = dbUrl;
    this.common = Map.copyOf(common);
    this.clusterPorts = new int[size];
    this.eventBusPorts = new int[size];
    this.nodes = new NodeProcess[size];
    for (int i = 0; i < size; i++) {
      clusterPorts[i] = TestNodes.freePort();
      eventBusPorts[i] = TestNodes.freePort();
    }
  }

  int size() {
    return nodes.length;
  }

  /** The environment of node {@code index}: every node lists every slot as a member. */
  Map<String, String> env(int index) {
    Map<String, String> env = new HashMap<>(
        TestNodes.baseSettings(dbUrl, clusterName, clusterPorts[index]));
    env.put("CHAT_CLUSTER_MEMBERS", java.util.Arrays.stream(clusterPorts)
        .mapToObj(port -> "127.0.0.1:" + port).collect(java.util.stream.Collectors.joining(",")));
    env.put("CHAT_EVENTBUS_PORT", String.valueOf(eventBusPorts[index]));
    env.put("CHAT_NODE_ID", "p" + index);
    env.putAll(common);
    return env;
  }

  /** Starts node {@code index} and waits until it is ready. */
  NodeProcess start(int index) {
    return start(index, Map.of(), List.of());
  }

  NodeProcess start(int index, Map<String, String> extraEnv, List<String> prefix) {
    NodeProcess node = launch(index, extraEnv, prefix);
    node.awaitReady(1, Duration.ofSeconds(90));
    return node;
  }

  /** Starts node {@code index} without waiting for it. */
  synchronized NodeProcess launch(int index, Map<String, String> extraEnv, List<String> prefix) {
    Map<String, String> env = env(index);
    env.putAll(extraEnv);
    NodeProcess node = NodeProcess.launch(env, prefix, List.of());
    nodes[index] = node;
    started.add(node);
    return node;
  }

  synchronized NodeProcess node(int index) {
    return nodes[index];
  }

  /** The ports that carry cluster traffic of node {@code index}: Hazelcast and event bus. */
  List<Integer> clusterTrafficPorts(int index) {
    return List.of(clusterPorts[index], eventBusPorts[index]);
  }

  /** A new user registered and logged in on the node in slot {@code index}. */
  TcpTestClient user(int index, String prefix) {
    TcpTestClient client = TcpTestClient.lines(nodes[index].tcpPort());
    clients.add(client);
    int id = client.register(TestNodes.unique(prefix), "pw");
    client.loginOk(id, "pw");
    return client;
  }

  /** A client connected to the node in slot {@code index}, not logged in. */
  TcpTestClient connect(int index) {
    TcpTestClient client = TcpTestClient.lines(nodes[index].tcpPort());
    clients.add(client);
    return client;
  }

  void track(TestClient client) {
    clients.add(client);
  }

  /** The logged-in user id of a client (from its LOGIN ack). */
  static int idOf(TestClient client) {
    return client.all().stream().filter(m -> m.getInteger("msgid") == 2
            && m.getInteger("errno", -1) == 0)
        .reduce((first, second) -> second).orElseThrow().getInteger("id");
  }

  /** {@code a} adds {@code b} as a friend (the relation is symmetric) and waits for the ACK. */
  static void befriend(TestClient a, int bId) {
    String seq = "friend-" + bId;
    a.send(new JsonObject().put("msgid", 7).put("friendid", bId).put("seq", seq));
    a.expect(m -> m.getInteger("msgid") == 105 && seq.equals(m.getString("seq")), "friend ack",
        TestClient.WAIT);
  }

  /** What {@code asker} is told about the users' states (PRESENCE_QUERY). */
  static Map<Integer, String> query(TestClient asker, List<Integer> ids) {
    String seq = "q-" + UUID.randomUUID();
    asker.send(new JsonObject().put("msgid", 107).put("ids", new JsonArray(new ArrayList<>(ids)))
        .put("seq", seq));
    JsonObject states = asker.expect(m -> m.getInteger("msgid") == 105
        && seq.equals(m.getString("seq")), "presence answer", TestClient.WAIT)
        .getJsonObject("states");
    Map<Integer, String> result = new HashMap<>();
    ids.forEach(id -> result.put(id, states.getString(String.valueOf(id), "offline")));
    return result;
  }

  static void assertState(Db db, int id, String state) {
    assertEquals(state, db.state(id), "user.state of " + id);
  }

  /** Keeps each node's output in target/node-logs, for reading after a failure. */
  private void saveLogs() {
    try {
      java.nio.file.Path dir = java.nio.file.Path.of("target", "node-logs");
      java.nio.file.Files.createDirectories(dir);
      for (int i = 0; i < started.size(); i++) {
        java.nio.file.Files.writeString(dir.resolve(clusterName + "-" + i + ".log"),
            started.get(i).log());
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    clients.forEach(TestClient::close);
    started.forEach(NodeProcess::close);
    saveLogs();
  }
}
