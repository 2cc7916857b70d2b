package chat.presence;

import io.vertx.core.json.JsonObject;
import java.util.Objects;

/**
 * Settings of the presence service.
 *
 * @param nodeId              this cluster member's id
 * @param dbUrl               {@code mysql://user:pass@host:port/db}, for the user.state mirror
 * @param dbPoolSize          connections for the mirror
 * @param kickTimeoutMs       how long a kicking login waits for the old session to be gone
 * @param sweepIntervalMs     how often sessions of departed nodes are looked for
 * @param reconcileIntervalMs how often 'online' rows without a live session are looked for
 * @param tombstoneAgeMs      how long the version of an offline user is kept in the map
 * @param requestTimeoutMs    timeout of requests this service sends
 */
public record PresenceConfig(String nodeId, String dbUrl, int dbPoolSize, long kickTimeoutMs,
                             long sweepIntervalMs, long reconcileIntervalMs, long tombstoneAgeMs,
                             long requestTimeoutMs) {

  public PresenceConfig {
    Objects.requireNonNull(nodeId, "nodeId");
    Objects.requireNonNull(dbUrl, "dbUrl");
    positive(dbPoolSize, "dbPoolSize");
    positive(kickTimeoutMs, "kickTimeoutMs");
    positive(sweepIntervalMs, "sweepIntervalMs");
    positive(reconcileIntervalMs, "reconcileIntervalMs");
    positive(tombstoneAgeMs, "tombstoneAgeMs");
    positive(requestTimeoutMs, "requestTimeoutMs");
  }

  /** Reads the settings; absent ones take their defaults. */
  public static PresenceConfig from(JsonObject json) {
    return new PresenceConfig(
        json.getString("nodeId"),
        json.getString("dbUrl"),
        json.getInteger("dbPoolSize", 4),
        json.getLong("kickTimeoutMs", 3000L),
        json.getLong("sweepIntervalMs", 2000L),
        json.getLong("reconcileIntervalMs", 5000L),
        json.getLong("tombstoneAgeMs", 60_000L),
        json.getLong("requestTimeoutMs", 5000L));
  }

  private static void positive(long value, String name) {
    if (value <= 0) {
      throw new IllegalArgumentException(name + " must be positive, was " + value);
    }
  }
}
