package chat.node;

import chat.user.UserConfig;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.Set;

/**
 * The node's environment-variable table: which {@code CHAT_*} variable goes to which key of
 * each service's config, and the few the node reads for itself (roles, database, event-bus
 * address). Only variables that are set are copied: the defaults live in the config records
 * ({@code GatewayConfig}, {@code PresenceConfig}, {@code UserConfig}), not here.
 */
final class EnvironmentTable {

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
      Map.entry("CHAT_LOGIN_THROTTLE_ADDRESS", "loginFailuresPerAddress"),
      Map.entry("CHAT_LOGINS_IN_FLIGHT", "loginsInFlight"));

  /** CHAT_* variables of the gateway that are text. */
  private static final Map<String, String> GATEWAY_TEXTS = Map.of(
      "CHAT_TLS_CERT", "tlsCertPath",
      "CHAT_TLS_KEY", "tlsKeyPath",
      "CHAT_BIND", "bindHost",
      "CHAT_LOGIN_CONFLICT", "loginConflict",
      "CHAT_TIMEZONE", "timezone",
      "CHAT_ADMIN_TOKEN", "adminToken");

  private EnvironmentTable() {
  }

  /** The services this node runs (CHAT_ROLES, default all three). */
  static Set<Roles> roles(Settings s) {
    return Roles.parse(s.get("CHAT_ROLES", "gateway,presence,user"));
  }

  /** Whether these services need the database (user and presence do). */
  static boolean needsDatabase(Set<Roles> roles) {
    return roles.contains(Roles.USER) || roles.contains(Roles.PRESENCE);
  }

  /** The node's name in logs and metrics: CHAT_NODE_ID, else one made from its id. */
  static String nodeName(Settings s, String nodeId) {
    return s.get("CHAT_NODE_ID", "node-" + nodeId.substring(0, 8));
  }

  /** CHAT_DB_URL; null when unset (the node then starts an embedded database). */
  static String databaseUrl(Settings s) {
    return s.get("CHAT_DB_URL", null);
  }

  /** Where the embedded database keeps its files (under CHAT_DATA_DIR). */
  static String dataDir(Settings s) {
    return s.get("CHAT_DATA_DIR", "data");
  }

  static int embeddedDatabasePort(Settings s) {
    return s.getInt("CHAT_DB_EMBEDDED_PORT", 3307);
  }

  /** CHAT_NODE_LOSS_S: how long a silent member stays in the cluster. */
  static int nodeLossSeconds(Settings s) {
    return s.getInt("CHAT_NODE_LOSS_S", 5);
  }

  /** CHAT_CLUSTER_HOST: the address the Hazelcast member and the event bus listen on. */
  static String clusterHost(Settings s) {
    return s.get("CHAT_CLUSTER_HOST", "127.0.0.1");
  }

  /** CHAT_CLUSTER_PUBLIC_HOST: the address others reach this node at; null when the same. */
  static String clusterPublicHost(Settings s) {
    return s.get("CHAT_CLUSTER_PUBLIC_HOST", null);
  }

  /** The event bus's own address: the cluster host, CHAT_EVENTBUS_PORT, the public host. */
  static void eventBus(Settings s, VertxOptions options) {
    options.getEventBusOptions().setHost(clusterHost(s))
        .setPort(s.getInt("CHAT_EVENTBUS_PORT", 0));
    String publicHost = clusterPublicHost(s);
    if (publicHost != null) {
      options.getEventBusOptions().setClusterPublicHost(publicHost);
    }
  }

  /** The user service's config (it names its own CHAT_* variables). */
  static JsonObject user(Settings s, String dbUrl) {
    return UserConfig.jsonFromEnv(s.asMap()).put("dbUrl", dbUrl);
  }

  static JsonObject presence(Settings s, String nodeId, String dbUrl) {
    JsonObject json = new JsonObject().put("nodeId", nodeId).put("dbUrl", dbUrl);
    copyNumbers(s, PRESENCE_NUMBERS, json);
    return json;
  }

  static JsonObject gateway(Settings s, String nodeId, String nodeName) {
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
