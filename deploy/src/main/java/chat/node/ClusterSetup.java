package chat.node;

import chat.presence.PresenceService;
import com.hazelcast.config.ClasspathXmlConfig;
import com.hazelcast.config.Config;
import com.hazelcast.config.FileSystemXmlConfig;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.MapConfig;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.config.SplitBrainProtectionConfig;
import com.hazelcast.splitbrainprotection.SplitBrainProtectionOn;
import java.io.FileNotFoundException;
import java.util.Arrays;

/** The Hazelcast configuration of a node: chat-cluster.xml plus the node's settings. */
final class ClusterSetup {

  /** The split-brain protection that guards the chat maps when CHAT_CLUSTER_QUORUM is set. */
  static final String QUORUM_NAME = "chat-quorum";
  /** The maps it guards: every chat map (the online map, and any other presence keeps). */
  private static final String GUARDED_MAPS = "chat.*";

  private ClusterSetup() {
  }

  /** CHAT_CLUSTER_QUORUM: the fewest members a side of a cut needs to serve; 0 when unset. */
  static int quorum(Settings settings) {
    int quorum = settings.getInt("CHAT_CLUSTER_QUORUM", 0);
    if (quorum != 0 && quorum < 2) {
      throw new IllegalArgumentException("CHAT_CLUSTER_QUORUM must be at least 2 (or unset),"
          + " was " + quorum);
    }
    return quorum;
  }

  static Config build(Settings settings) {
    Config config = load(settings.get("CHAT_CLUSTER_CONFIG", null));
    config.setClusterName(settings.get("CHAT_CLUSTER_NAME", "chat"));
    PresenceService.configureCluster(config);
    int nodeLoss = EnvironmentTable.nodeLossSeconds(settings);
    if (nodeLoss < 2) {
      throw new IllegalArgumentException("CHAT_NODE_LOSS_S must be at least 2");
    }
    // Heartbeats every second; a member silent for detectorSeconds is removed within the next
    // second, leaving the survivors the rest of CHAT_NODE_LOSS_S to clear its sessions.
    config.setProperty("hazelcast.max.no.heartbeat.seconds",
        String.valueOf(detectorSeconds(nodeLoss)));
    int quorum = quorum(settings);
    if (quorum > 0) {
      if (nodeLoss < 4) {
        throw new IllegalArgumentException("CHAT_NODE_LOSS_S must be at least 4 with"
            + " CHAT_CLUSTER_QUORUM (the quorum counts members heard from within one second"
            + " less than the failure detector allows, and at least 2 s)");
      }
      guardChatMaps(config, quorum, nodeLoss);
    }

    NetworkConfig network = config.getNetworkConfig();
    String host = EnvironmentTable.clusterHost(settings);
    network.setPort(settings.getInt("CHAT_CLUSTER_PORT", 5701)).setPortAutoIncrement(false);
    network.getInterfaces().setEnabled(false);
    config.setProperty("hazelcast.local.localAddress", host);
    // Listen on that address only (Hazelcast's default listens on every interface).
    config.setProperty("hazelcast.socket.bind.any", "false");
    String publicHost = EnvironmentTable.clusterPublicHost(settings);
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

  /**
   * Seconds of silence after which the failure detector removes a member. Detection then
   * comes up to one heartbeat check later; the rest of CHAT_NODE_LOSS_S is the survivors'
   * budget to sweep, write the rows and tell friends. From 5 s on that budget is at least one
   * whole second (detector at CHAT_NODE_LOSS_S − 2 s); below, the detector keeps at least 2 s
   * (CHAT_NODE_LOSS_S − 1 s), so a busy machine's pauses are not taken for deaths.
   */
  static int detectorSeconds(long nodeLossSeconds) {
    return (int) (nodeLossSeconds >= 5 ? nodeLossSeconds - 2 : Math.max(1, nodeLossSeconds - 1));
  }

  /**
   * Hazelcast split-brain protection on every chat map: an operation on them fails unless at
   * least {@code quorum} members, this one included, were heard from within the last
   * {@link #detectorSeconds} - 1 s ({@link RecentHeartbeats}). On the minority side of a cut the
   * failure detector (checking every second) removes the unreachable members after
   * {@link #detectorSeconds} of silence, possibly one check apart; when the first goes, the
   * others still listed have been silent for more than the tolerance, so a sweep of the
   * removed one fails instead of removing the sessions of a side that is alive.
   */
  private static void guardChatMaps(Config config, int quorum, int nodeLoss) {
    int toleranceMs = (detectorSeconds(nodeLoss) - 1) * 1000;
    config.addSplitBrainProtectionConfig(new SplitBrainProtectionConfig(QUORUM_NAME, true, quorum)
        .setProtectOn(SplitBrainProtectionOn.READ_WRITE)
        .setFunctionImplementation(new RecentHeartbeats(quorum, toleranceMs)));
    if (!config.getMapConfigs().containsKey(GUARDED_MAPS)) {
      config.addMapConfig(new MapConfig(GUARDED_MAPS));
    }
    config.getMapConfigs().forEach((name, map) -> {
      if (name.startsWith("chat.")) {
        map.setSplitBrainProtectionName(QUORUM_NAME);
      }
    });
  }

  /** The quorum rule of a config built with CHAT_CLUSTER_QUORUM; null without one. */
  static RecentHeartbeats quorumRule(Config config) {
    SplitBrainProtectionConfig protection = config.getSplitBrainProtectionConfigs().get(QUORUM_NAME);
    return protection == null ? null : (RecentHeartbeats) protection.getFunctionImplementation();
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
