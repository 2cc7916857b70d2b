package chat.node;

import com.hazelcast.config.ClasspathXmlConfig;
import com.hazelcast.config.Config;
import com.hazelcast.config.FileSystemXmlConfig;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import java.io.FileNotFoundException;
import java.util.Arrays;

/** The Hazelcast configuration of a node: chat-cluster.xml plus the node's settings. */
final class ClusterSetup {

  private ClusterSetup() {
  }

  static Config build(Settings settings) {
    Config config = load(settings.get("CHAT_CLUSTER_CONFIG", null));
    config.setClusterName(settings.get("CHAT_CLUSTER_NAME", "chat"));
    int nodeLoss = settings.getInt("CHAT_NODE_LOSS_S", 5);
    if (nodeLoss < 2) {
      throw new IllegalArgumentException("CHAT_NODE_LOSS_S must be at least 2");
    }
    // Heartbeats every second; a member silent for nodeLoss - 1 s is removed within the next
    // second, leaving the survivors the rest of CHAT_NODE_LOSS_S to clear its sessions.
    config.setProperty("hazelcast.max.no.heartbeat.seconds", String.valueOf(nodeLoss - 1));

    NetworkConfig network = config.getNetworkConfig();
    String host = settings.get("CHAT_CLUSTER_HOST", "127.0.0.1");
    network.setPort(settings.getInt("CHAT_CLUSTER_PORT", 5701)).setPortAutoIncrement(false);
    network.getInterfaces().setEnabled(false);
    config.setProperty("hazelcast.local.localAddress", host);
    // Listen on that address only (Hazelcast's default listens on every interface).
    config.setProperty("hazelcast.socket.bind.any", "false");
    String publicHost = settings.get("CHAT_CLUSTER_PUBLIC_HOST", null);
    if (publicHost != null) {
      network.setPublicAddress(publicHost + ":" + network.getPort());
    }

    JoinConfig join = network.getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    String k8sService = settings.get("CHAT_K8S_SERVICE_DNS", null);
    if (k8sService != null) {
      join.getTcpIpConfig().setEnabled(false);
      join.getKubernetesConfig().setEnabled(true)
          .setProperty("service-dns", k8sService)
          .setProperty("service-port", String.valueOf(network.getPort()));
    } else {
      join.getTcpIpConfig().setEnabled(true).getMembers().clear();
      String members = settings.get("CHAT_CLUSTER_MEMBERS", "");
      Arrays.stream(members.split(","))
          .map(String::trim)
          .filter(m -> !m.isEmpty())
          .forEach(m -> join.getTcpIpConfig().addMember(m));
      join.getTcpIpConfig().addMember(host + ":" + network.getPort());
    }
    return config;
  }

  private static Config load(String file) {
    if (file == null) {
      return new ClasspathXmlConfig("chat-cluster.xml");
    }
    try {
      return new FileSystemXmlConfig(file);
    } catch (FileNotFoundException e) {
      throw new IllegalArgumentException("CHAT_CLUSTER_CONFIG " + file + " not found", e);
    }
  }
}
