package chat.presence.config;

import chat.protocol.config.DbUrl;
import io.vertx.core.json.JsonObject;
import java.util.Objects;

/**
 * Settings of the presence service.
 *
 * @param nodeId           this cluster member's id
 * @param dbUrl            {@code mysql://user:pass@host:port/db}, for the user.state mirror
 *                         (read with {@link DbUrl}, as every service reads it)
 * @param dbPoolSize       connections for the mirror
 * @param kickTimeoutMs    how long a kicking login waits for the old session to be gone
 *                         (CHAT_KICK_TIMEOUT_MS)
 * @param sweepIntervalMs  how often each member looks, among the entries it owns, for
 *                         sessions of departed nodes
 * @param repairSeconds    the three views (gateways' connections, the map, the rows) agree
 *                         again within this many seconds of any lost message (CHAT_REPAIR_S);
 *                         digests and the database reconciliation run three times per period
 * @param requestTimeoutMs timeout of requests this service sends, and of the gateways' requests
 *                         to it (CHAT_REQUEST_TIMEOUT_MS)
 */
public record PresenceConfig(String nodeId, String dbUrl, int dbPoolSize, long kickTimeoutMs,
                             long sweepIntervalMs, int repairSeconds, long requestTimeoutMs) {

  /**
   * The Hazelcast member attribute holding a member's node id: the id gateways record in
   * their sessions. A session whose node id no member carries belongs to a departed node.
   */
  public static final String NODE_ATTRIBUTE = "chat.node";

  /** The Hazelcast member attribute holding a member's node name (CHAT_NODE_ID), for logs. */
  public static final String NODE_NAME_ATTRIBUTE = "chat.node.name";

  /** The worker pool of sweeps and repairs: never the default one, where passwords are hashed. */
  public static final String REPAIR_POOL = "chat-presence-repair";

  public PresenceConfig {
    Objects.requireNonNull(nodeId, "nodeId");
    Objects.requireNonNull(dbUrl, "dbUrl");
    DbUrl.parse(dbUrl);
    positive(dbPoolSize, "dbPoolSize");
    positive(kickTimeoutMs, "kickTimeoutMs");
    positive(sweepIntervalMs, "sweepIntervalMs");
    positive(repairSeconds, "repairSeconds");
    positive(requestTimeoutMs, "requestTimeoutMs");
    if (kickTimeoutMs >= requestTimeoutMs) {
      throw new IllegalArgumentException("CHAT_KICK_TIMEOUT_MS (" + kickTimeoutMs
          + ") must be less than CHAT_REQUEST_TIMEOUT_MS (" + requestTimeoutMs + "): a login"
          + " that kicks an older session must be answered before the gateway gives up on it");
    }
  }

  /** Reads the settings; absent ones take their defaults. */
  public static PresenceConfig from(JsonObject json) {
    return new PresenceConfig(
        json.getString("nodeId"),
        json.getString("dbUrl"),
        json.getInteger("dbPoolSize", 4),
        json.getLong("kickTimeoutMs", 3000L),
        json.getLong("sweepIntervalMs", 2000L),
        json.getInteger("repairSeconds", 10),
        json.getLong("requestTimeoutMs", 5000L));
  }

  /** How often each gateway sends its digest, and the elected member reconciles the rows. */
  public long repairRoundMs() {
    return repairSeconds * 1000L / 3;
  }

  private static void positive(long value, String name) {
    if (value <= 0) {
      throw new IllegalArgumentException(name + " must be positive, was " + value);
    }
  }
}
