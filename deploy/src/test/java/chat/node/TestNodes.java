package chat.node;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Chat nodes started in this JVM, each with its own Hazelcast member, event bus and
 * listeners on free ports, forming one cluster private to the test class.
 */
final class TestNodes implements AutoCloseable {

  private final String dbUrl;
  private final String clusterName = "test-" + UUID.randomUUID();
  private final List<ChatNode> nodes = new ArrayList<>();
  private final List<Integer> clusterPorts = new ArrayList<>();
  private final Map<String, String> common;

  TestNodes(String dbUrl, Map<String, String> common) {
    this.dbUrl = dbUrl;
    this.common = Map.copyOf(common);
  }

  TestNodes(String dbUrl) {
    this(dbUrl, Map.of());
  }

  /** Starts one more node, joined to the ones already started. */
  ChatNode start(Map<String, String> overrides) {
    int clusterPort = freePort();
    Map<String, String> env = new HashMap<>(baseSettings(dbUrl, clusterName, clusterPort));
    StringBuilder members = new StringBuilder();
    for (int port : clusterPorts) {
      members.append(members.length() == 0 ? "" : ",").append("127.0.0.1:").append(port);
    }
    env.put("CHAT_CLUSTER_MEMBERS", members.toString());
    env.put("CHAT_NODE_ID", "n" + (nodes.size() + 1));
    env.putAll(common);
    env.putAll(overrides);
    ChatNode node = ChatNode.start(Settings.from(env));
    nodes.add(node);
    clusterPorts.add(clusterPort);
    return node;
  }

  ChatNode start() {
    return start(Map.of());
  }

  String clusterName() {
    return clusterName;
  }

  List<Integer> clusterPorts() {
    return List.copyOf(clusterPorts);
  }

  /** Settings of a test node: free ports, loopback only, cheap password hashing. */
  static Map<String, String> baseSettings(String dbUrl, String clusterName, int clusterPort) {
    Map<String, String> env = new HashMap<>();
    env.put("CHAT_DB_URL", dbUrl);
    env.put("CHAT_BIND", "127.0.0.1");
    env.put("CHAT_TCP_PORT", "0");
    env.put("CHAT_HTTP_PORT", "0");
    env.put("CHAT_CLUSTER_HOST", "127.0.0.1");
    env.put("CHAT_CLUSTER_PORT", String.valueOf(clusterPort));
    env.put("CHAT_CLUSTER_NAME", clusterName);
    env.put("CHAT_PASSWORD_ITERATIONS", "1000");
    return env;
  }

  /** A name no other test uses: the prefix and a random suffix. */
  static String unique(String prefix) {
    return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  /** Ports this JVM handed out already: never handed out twice. */
  private static final java.util.Set<Integer> GIVEN =
      java.util.concurrent.ConcurrentHashMap.newKeySet();

  /**
   * A port free now on every address, below the kernel's ephemeral range (32768 and up on
   * Linux), and not handed out before by this JVM: a node restarted on the same port must
   * find it free again, and a port from the ephemeral range may meanwhile be taken by any
   * outgoing connection of this machine (seen: a chaos restart failed with "Port ... is
   * already in use").
   */
  static int freePort() {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    for (int attempt = 0; attempt < 500; attempt++) {
      int port = 20_000 + random.nextInt(12_000);
      if (GIVEN.contains(port)) {
        continue;
      }
      try (ServerSocket socket = new ServerSocket()) {
        socket.setReuseAddress(false);
        socket.bind(new InetSocketAddress(port));
      } catch (IOException e) {
        continue;
      }
      if (GIVEN.add(port)) {
        return port;
      }
    }
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    for (int i = nodes.size() - 1; i >= 0; i--) {
      nodes.get(i).stop().await();
    }
    nodes.clear();
  }
}
