package chat.node;

import chat.gateway.GatewayConfig;
import chat.gateway.node.GatewayService;
import chat.gateway.session.CloseReason;
import chat.presence.PresenceService;
import chat.presence.config.PresenceConfig;
import chat.presence.metrics.PresenceMetrics;
import chat.protocol.wire.Replies;
import chat.user.UserConfig;
import chat.user.UserVerticle;
import chat.user.repo.SchemaMigration;
import com.hazelcast.config.Config;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.LifecycleEvent;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One chat node: joins the cluster and runs the services named by CHAT_ROLES in one
 * process. {@link #stop()} is the graceful stop used on SIGTERM.
 */
public final class ChatNode {

  private static final Logger LOG = LoggerFactory.getLogger(ChatNode.class);

  private final String nodeId;
  private final String nodeName;
  private final Vertx vertx;
  private final HazelcastInstance hazelcast;
  private final GatewayService gateway;
  private final EmbeddedDatabase embeddedDb;
  private final PauseDetector pauses;
  private final QuorumWatch quorum;

  private ChatNode(String nodeId, String nodeName, Vertx vertx, HazelcastInstance hazelcast,
                   GatewayService gateway, EmbeddedDatabase embeddedDb, PauseDetector pauses,
                   QuorumWatch quorum) {
    this.nodeId = nodeId;
    this.nodeName = nodeName;
    this.vertx = vertx;
    this.hazelcast = hazelcast;
    this.gateway = gateway;
    this.embeddedDb = embeddedDb;
    this.pauses = pauses;
    this.quorum = quorum;
  }

  /** Starts a node and returns once every service of its roles is deployed. Blocking. */
  public static ChatNode start(Settings settings) {
    Set<Roles> roles = Roles.parse(settings.get("CHAT_ROLES", "gateway,presence,user"));
    boolean needsDb = roles.contains(Roles.USER) || roles.contains(Roles.PRESENCE);
    EmbeddedDatabase embeddedDb = null;
    if (settings.get("CHAT_DB_URL", null) == null && needsDb) {
      embeddedDb = EmbeddedDatabase.start(
          Path.of(settings.get("CHAT_DATA_DIR", "data")).resolve("mariadb"),
          settings.getInt("CHAT_DB_EMBEDDED_PORT", 3307));
    }
    try {
      return start(settings, embeddedDb);
    } catch (RuntimeException e) {
      if (embeddedDb != null) {
        embeddedDb.close();
      }
      throw e;
    }
  }

  private static ChatNode start(Settings settings, EmbeddedDatabase embeddedDb) {
    while (true) {
      ChatNode node = startOnce(settings, embeddedDb);
      if (node != null) {
        return node;
      }
    }
  }

  /**
   * Joins the cluster and deploys the services; with CHAT_CLUSTER_QUORUM, only once the
   * cluster holds a quorum. Null if this member was merged into another cluster while it
   * waited (it has left again, and the caller starts a new member).
   */
  private static ChatNode startOnce(Settings settings, EmbeddedDatabase embeddedDb) {
    Set<Roles> roles = Roles.parse(settings.get("CHAT_ROLES", "gateway,presence,user"));
    String nodeId = UUID.randomUUID().toString();
    String nodeName = settings.get("CHAT_NODE_ID", "node-" + nodeId.substring(0, 8));
    PauseDetector pauses = new PauseDetector();
    QuorumWatch quorum = null;
    Vertx vertx = null;
    try {
      String dbUrl = embeddedDb != null ? embeddedDb.url() : settings.get("CHAT_DB_URL", null);
      boolean needsDb = roles.contains(Roles.USER) || roles.contains(Roles.PRESENCE);
      if (needsDb) {
        SchemaMigration.migrate(dbUrl);
      }

      Config clusterConfig = ClusterSetup.build(settings);
      clusterConfig.getMemberAttributeConfig().setAttribute(PresenceConfig.NODE_ATTRIBUTE, nodeId);
      clusterConfig.getMemberAttributeConfig()
          .setAttribute(PresenceConfig.NODE_NAME_ATTRIBUTE, nodeName);
      HazelcastClusterManager clusterManager = new HazelcastClusterManager(clusterConfig);
      PrometheusMeterRegistry metrics = NodeMetrics.create(nodeName);
      NodeMetrics.bindCluster(metrics, clusterManager);
      VertxOptions options = new VertxOptions()
          .setPreferNativeTransport(true)
          .setMetricsOptions(new MicrometerMetricsOptions().setEnabled(true)
              .setRegistryName(nodeId));
      String clusterHost = settings.get("CHAT_CLUSTER_HOST", "127.0.0.1");
      options.getEventBusOptions().setHost(clusterHost)
          .setPort(settings.getInt("CHAT_EVENTBUS_PORT", 0));
      String publicHost = settings.get("CHAT_CLUSTER_PUBLIC_HOST", null);
      if (publicHost != null) {
        options.getEventBusOptions().setClusterPublicHost(publicHost);
      }
      vertx = Vertx.builder().with(options).withClusterManager(clusterManager)
          .withMetrics(new MicrometerMetricsFactory(metrics))
          .buildClustered().await();
      LOG.info("node {} ({}) joined cluster '{}' with {} members, transport {}", nodeName, nodeId,
          clusterConfig.getClusterName(), clusterManager.getNodes().size(),
          vertx.isNativeTransportEnabled() ? "native" : "nio");
      HazelcastInstance hazelcast = clusterManager.getHazelcastInstance();
      PresenceMetrics.register(vertx, metrics);
      RecentHeartbeats quorumRule = ClusterSetup.quorumRule(clusterConfig);
      if (quorumRule != null) {
        quorum = new QuorumWatch(hazelcast, quorumRule, nodeName);
        if (!quorum.awaitQuorum()) {
          quorum.close();
          pauses.close();
          vertx.close().await();
          return null;
        }
      }

      if (roles.contains(Roles.USER)) {
        UserConfig userConfig = UserConfig.from(
            UserConfig.jsonFromEnv(settings.asMap()).put("dbUrl", dbUrl));
        vertx.deployVerticle(() -> new UserVerticle(userConfig),
            new io.vertx.core.DeploymentOptions().setInstances(2)).await();
      }
      if (roles.contains(Roles.PRESENCE)) {
        // On the minority side of a cut (CHAT_CLUSTER_QUORUM) presence removes nobody.
        QuorumWatch sweepGate = quorum;
        PresenceService.deploy(vertx, PresenceConfig.from(presenceSettings(settings, nodeId, dbUrl)),
            hazelcast, pauses, () -> sweepGate == null || sweepGate.present()).await();
      }
      GatewayService gateway = null;
      if (roles.contains(Roles.GATEWAY)) {
        PartitionSafety.await(hazelcast, nodeName);
        gateway = GatewayService.deploy(vertx,
            GatewayConfig.from(gatewaySettings(settings, nodeId, nodeName)
                .put("servicesColocated",
                    roles.contains(Roles.PRESENCE) && roles.contains(Roles.USER))),
            metrics).await();
      }
      ChatNode node = new ChatNode(nodeId, nodeName, vertx, hazelcast, gateway, embeddedDb, pauses,
          quorum);
      node.watchForSplit();
      LOG.info("node {} ready: roles {}{}", nodeName, roles, gateway == null ? ""
          : ", TCP port " + gateway.tcpPort() + ", HTTP port " + gateway.httpPort()
          + ", internal port " + gateway.internalPort());
      return node;
    } catch (RuntimeException e) {
      pauses.close();
      if (quorum != null) {
        quorum.close();
      }
      if (vertx != null) {
        vertx.close().await();
      }
      throw e;
    }
  }

  public String nodeId() {
    return nodeId;
  }

  public String nodeName() {
    return nodeName;
  }

  /** This node's Vert.x instance (tests reach the event bus through it). */
  Vertx vertx() {
    return vertx;
  }

  public int tcpPort() {
    return gateway.tcpPort();
  }

  public int httpPort() {
    return gateway.httpPort();
  }

  /** Where /health, /metrics and /api are served (CHAT_INTERNAL_PORT, else the HTTP port). */
  public int internalPort() {
    return gateway.internalPort();
  }

  /**
   * Graceful stop, in this order: clients get SERVER_CLOSING; this node's users' transitions
   * finish completely (map, rows, friends' PRESENCE on whatever node: the drain waits for
   * presence to confirm each, bounded); only then are this node's services stopped and the
   * node leaves the cluster; the embedded database (if any) stops last, when nothing of this
   * node writes to it any more.
   */
  public Future<Void> stop() {
    long started = System.nanoTime();
    Future<Void> drained = gateway == null ? Future.succeededFuture() : gateway.drain();
    return drained
        .onComplete(ar -> LOG.info("node {}: drain done after {} ms; stopping its services",
            nodeName, (System.nanoTime() - started) / 1_000_000))
        .eventually(() -> vertx.close())
        .eventually(() -> {
          pauses.close();
          if (quorum != null) {
            quorum.close();
          }
          return Future.succeededFuture();
        })
        .eventually(() -> {
          if (embeddedDb != null) {
            embeddedDb.close();
          }
          LOG.info("node {} stopped", nodeName);
          return Future.succeededFuture();
        });
  }

  /**
   * Calls {@code action} when this node has (very likely) been declared dead by the cluster,
   * so the other members have removed it and its sessions: it stood still for
   * {@link ClusterSetup#detectorSeconds} − 1 s or more. The others heard nothing for the pause
   * plus up to one heartbeat interval (1 s) before it began. (At − 0.5 s a node frozen 2.3 s
   * under load had been removed and did not restart: it stayed a stale one-member cluster.)
   * The action is expected to {@link #restartAsNewMember} it.
   *
   * <p>First, at once, this node's Hazelcast member is terminated. Its view is stale: it may
   * still list the members that removed it, so to the survivors it looks like a cluster at
   * least as large as theirs, and their split-brain handling would merge the live side into
   * it (seen within a second of a thaw: a survivor of two nodes merged into the thawed one
   * and closed all its own clients). A member that no longer answers cannot be merged into.
   */
  public void onDeclaredDead(long nodeLossSeconds, Runnable action) {
    long thresholdMs = ClusterSetup.detectorSeconds(nodeLossSeconds) * 1000L - 1000;
    pauses.onPause(gapMs -> {
      if (gapMs >= thresholdMs) {
        LOG.warn("node {} stood still for {} ms: the cluster has declared it dead; leaving it"
            + " at once", nodeName, gapMs);
        try {
          hazelcast.getLifecycleService().terminate();
        } catch (RuntimeException e) {
          LOG.warn("node {}: terminating its stale cluster member failed: {}", nodeName,
              e.toString());
        }
        action.run();
      }
    });
  }

  /**
   * With CHAT_CLUSTER_QUORUM, calls {@code action} once when this node is on the minority
   * side of a cut (it sees fewer members than the quorum). The action is expected to
   * {@link #restartAsNewMember} it: its clients are closed, and the new member serves again
   * only once the cut has healed.
   */
  public void onQuorumLost(Runnable action) {
    if (quorum != null) {
      quorum.onLost(action);
    }
  }

  /**
   * True unless this node is on the minority side of a cut (always true without
   * CHAT_CLUSTER_QUORUM): whether it may remove other nodes' sessions.
   */
  public boolean hasQuorum() {
    return quorum == null || quorum.present();
  }

  /**
   * Leaves the cluster as a node the cluster declared dead: every client gets SERVER_CLOSING
   * and is closed without reporting its end (the cluster already removed these sessions, and
   * this node's view of the map is stale), then a new node starts in this process and joins
   * as a new member. The embedded database, if any, keeps running.
   */
  public ChatNode restartAsNewMember(Settings settings) {
    if (gateway != null) {
      gateway.sessions().abandonAll(CloseReason.SERVER_CLOSING,
          Replies.serverClosing(1000)).await();
    }
    if (quorum != null) {
      quorum.close();
    }
    vertx.close().await();
    pauses.close();
    LOG.info("node {} left the cluster; starting again as a new member", nodeName);
    return start(settings, embeddedDb);
  }

  /**
   * A node cut off from the others (without pausing) that finds the cluster again must not
   * bring its sessions back either: when it merges into the other side it closes every
   * client, and the online map's merge policy discards what it held.
   */
  private void watchForSplit() {
    hazelcast.getLifecycleService().addLifecycleListener(event -> {
      if (event.getState() == LifecycleEvent.LifecycleState.MERGING && gateway != null) {
        LOG.warn("node {} was cut off from the cluster and is rejoining: closing all clients",
            nodeName);
        gateway.sessions().abandonAll(CloseReason.SERVER_CLOSING, Replies.serverClosing(1000));
      } else if (event.getState() == LifecycleEvent.LifecycleState.MERGED && gateway != null) {
        gateway.sessions().reopen();
      }
    });
  }

  /** CHAT_* variables of the presence service → PresenceConfig keys (defaults live there). */
  private static final Map<String, String> PRESENCE_NUMBERS = Map.of(
      "CHAT_KICK_TIMEOUT_MS", "kickTimeoutMs",
      "CHAT_REQUEST_TIMEOUT_MS", "requestTimeoutMs",
      "CHAT_REPAIR_S", "repairSeconds");

  /** CHAT_* variables of the gateway → GatewayConfig keys (defaults live there). */
  private static final Map<String, String> GATEWAY_NUMBERS = Map.ofEntries(
      Map.entry("CHAT_TCP_PORT", "tcpPort"),
      Map.entry("CHAT_HTTP_PORT", "httpPort"),
      Map.entry("CHAT_MAX_FRAME", "maxFrameBytes"),
      Map.entry("CHAT_AUTH_TIMEOUT_S", "authTimeoutSeconds"),
      Map.entry("CHAT_HEARTBEAT_INTERVAL_S", "heartbeatIntervalSeconds"),
      Map.entry("CHAT_HEARTBEAT_TIMEOUT_S", "heartbeatTimeoutSeconds"),
      Map.entry("CHAT_KEEPALIVE_IDLE_S", "keepAliveIdleSeconds"),
      Map.entry("CHAT_KEEPALIVE_INTERVAL_S", "keepAliveIntervalSeconds"),
      Map.entry("CHAT_KEEPALIVE_COUNT", "keepAliveCount"),
      Map.entry("CHAT_REQUEST_TIMEOUT_MS", "requestTimeoutMs"),
      Map.entry("CHAT_RATE_LIMIT", "rateLimitPerSecond"),
      Map.entry("CHAT_OUTBOUND_MAX_BYTES", "outboundMaxBytes"),
      Map.entry("CHAT_RECONNECT_AFTER_MS", "reconnectAfterMs"),
      Map.entry("CHAT_TCP_INSTANCES", "tcpInstances"),
      Map.entry("CHAT_INBOUND_MAX_BYTES", "inboundMaxBytes"),
      Map.entry("CHAT_OFFLINE_PAGE", "offlinePage"),
      Map.entry("CHAT_OFFLINE_MAX", "offlineMax"),
      Map.entry("CHAT_HISTORY_DAYS", "historyDays"),
      Map.entry("CHAT_REPAIR_S", "repairSeconds"),
      Map.entry("CHAT_INTERNAL_PORT", "internalPort"),
      Map.entry("CHAT_LOGIN_THROTTLE_ACCOUNT", "loginFailuresPerAccount"),
      Map.entry("CHAT_LOGIN_THROTTLE_ADDRESS", "loginFailuresPerAddress"));

  /** CHAT_* variables of the gateway that are text. */
  private static final Map<String, String> GATEWAY_TEXTS = Map.of(
      "CHAT_TLS_CERT", "tlsCertPath",
      "CHAT_TLS_KEY", "tlsKeyPath",
      "CHAT_BIND", "bindHost",
      "CHAT_LOGIN_CONFLICT", "loginConflict",
      "CHAT_TIMEZONE", "timezone",
      "CHAT_ADMIN_TOKEN", "adminToken");

  private static JsonObject presenceSettings(Settings s, String nodeId, String dbUrl) {
    JsonObject json = new JsonObject().put("nodeId", nodeId).put("dbUrl", dbUrl);
    copyNumbers(s, PRESENCE_NUMBERS, json);
    return json;
  }

  private static JsonObject gatewaySettings(Settings s, String nodeId, String nodeName) {
    JsonObject json = new JsonObject().put("nodeId", nodeId).put("nodeName", nodeName);
    copyNumbers(s, GATEWAY_NUMBERS, json);
    GATEWAY_TEXTS.forEach((variable, key) -> {
      String value = s.get(variable, null);
      if (value != null) {
        json.put(key, value);
      }
    });
    return json;
  }

  /**
   * Copies the variables that are set, as numbers (milliseconds as longs, the rest as ints,
   * each checked by Settings); absent ones take the config's default.
   */
  private static void copyNumbers(Settings s, Map<String, String> names, JsonObject json) {
    names.forEach((variable, key) -> {
      if (s.get(variable, null) != null) {
        json.put(key, key.endsWith("Ms") ? (Object) s.getLong(variable, 0) : s.getInt(variable, 0));
      }
    });
  }
}
