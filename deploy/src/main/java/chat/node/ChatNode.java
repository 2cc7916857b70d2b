package chat.node;

import chat.gateway.GatewayConfig;
import chat.gateway.node.GatewayService;
import chat.presence.PresenceService;
import chat.presence.config.PresenceConfig;
import chat.presence.metrics.PresenceMetrics;
import chat.user.UserConfig;
import chat.user.UserVerticle;
import chat.user.repo.SchemaMigration;
import com.hazelcast.config.Config;
import com.hazelcast.core.HazelcastInstance;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.nio.file.Path;
import java.util.Set;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One chat node: joins the cluster and runs the services named by CHAT_ROLES in one
 * process. This class only wires the parts together: {@link EnvironmentTable} says which
 * CHAT_* variable goes where, {@link ClusterMembership} handles a node the cluster declared
 * dead, cut off or merging back. {@link #stop()} is the graceful stop used on SIGTERM.
 */
public final class ChatNode {

  private static final Logger LOG = LoggerFactory.getLogger(ChatNode.class);

  private final String nodeId;
  private final String nodeName;
  private final Vertx vertx;
  private final GatewayService gateway;
  private final EmbeddedDatabase embeddedDb;
  private final ClusterMembership membership;

  private ChatNode(String nodeId, String nodeName, Vertx vertx, GatewayService gateway,
                   EmbeddedDatabase embeddedDb, ClusterMembership membership) {
    this.nodeId = nodeId;
    this.nodeName = nodeName;
    this.vertx = vertx;
    this.gateway = gateway;
    this.embeddedDb = embeddedDb;
    this.membership = membership;
  }

  /** Starts a node and returns once every service of its roles is deployed. Blocking. */
  public static ChatNode start(Settings settings) {
    EmbeddedDatabase embeddedDb = null;
    if (EnvironmentTable.databaseUrl(settings) == null
        && EnvironmentTable.needsDatabase(EnvironmentTable.roles(settings))) {
      embeddedDb = EmbeddedDatabase.start(
          Path.of(EnvironmentTable.dataDir(settings)).resolve("mariadb"),
          EnvironmentTable.embeddedDatabasePort(settings));
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
    Set<Roles> roles = EnvironmentTable.roles(settings);
    String nodeId = UUID.randomUUID().toString();
    String nodeName = EnvironmentTable.nodeName(settings, nodeId);
    PauseDetector pauses = new PauseDetector();
    QuorumWatch quorum = null;
    Vertx vertx = null;
    try {
      String dbUrl = embeddedDb != null ? embeddedDb.url() : EnvironmentTable.databaseUrl(settings);
      if (EnvironmentTable.needsDatabase(roles)) {
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
      EnvironmentTable.eventBus(settings, options);
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
        UserConfig userConfig = UserConfig.from(EnvironmentTable.user(settings, dbUrl));
        vertx.deployVerticle(() -> new UserVerticle(userConfig),
            new DeploymentOptions().setInstances(2)).await();
      }
      if (roles.contains(Roles.PRESENCE)) {
        // On the minority side of a cut (CHAT_CLUSTER_QUORUM) presence removes nobody.
        QuorumWatch sweepGate = quorum;
        PresenceService.deploy(vertx,
            PresenceConfig.from(EnvironmentTable.presence(settings, nodeId, dbUrl)),
            hazelcast, pauses, () -> sweepGate == null || sweepGate.present()).await();
      }
      GatewayService gateway = null;
      if (roles.contains(Roles.GATEWAY)) {
        PartitionSafety.await(hazelcast, nodeName);
        gateway = GatewayService.deploy(vertx,
            GatewayConfig.from(EnvironmentTable.gateway(settings, nodeId, nodeName)
                .put("servicesColocated",
                    roles.contains(Roles.PRESENCE) && roles.contains(Roles.USER))),
            metrics).await();
      }
      ClusterMembership membership =
          new ClusterMembership(nodeName, hazelcast, pauses, quorum, gateway);
      membership.watchForSplit();
      LOG.info("node {} ready: roles {}{}", nodeName, roles, gateway == null ? ""
          : ", TCP port " + gateway.tcpPort() + ", HTTP port " + gateway.httpPort()
          + ", internal port " + gateway.internalPort());
      return new ChatNode(nodeId, nodeName, vertx, gateway, embeddedDb, membership);
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
          membership.close();
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
   * Calls {@code action} when this node has (very likely) been declared dead by the cluster
   * (it stood still for about as long as the failure detector allows), so the other members
   * have removed it and its sessions; its stale Hazelcast member is terminated first (see
   * {@link ClusterMembership#onDeclaredDead}). The action is expected to
   * {@link #restartAsNewMember} it.
   */
  public void onDeclaredDead(long nodeLossSeconds, Runnable action) {
    membership.onDeclaredDead(nodeLossSeconds, action);
  }

  /**
   * With CHAT_CLUSTER_QUORUM, calls {@code action} once when this node is on the minority
   * side of a cut (it sees fewer members than the quorum). The action is expected to
   * {@link #restartAsNewMember} it: its clients are closed, and the new member serves again
   * only once the cut has healed.
   */
  public void onQuorumLost(Runnable action) {
    membership.onQuorumLost(action);
  }

  /**
   * True unless this node is on the minority side of a cut (always true without
   * CHAT_CLUSTER_QUORUM): whether it may remove other nodes' sessions.
   */
  public boolean hasQuorum() {
    return membership.hasQuorum();
  }

  /**
   * Leaves the cluster as a node the cluster declared dead ({@link ClusterMembership#leave}),
   * then a new node starts in this process and joins as a new member. The embedded database,
   * if any, keeps running.
   */
  public ChatNode restartAsNewMember(Settings settings) {
    membership.leave(vertx);
    LOG.info("node {} left the cluster; starting again as a new member", nodeName);
    return start(settings, embeddedDb);
  }
}
