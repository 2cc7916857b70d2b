package chat.gateway;

import chat.protocol.bus.LoginPolicy;
import io.vertx.core.json.JsonObject;
import java.time.ZoneId;
import java.util.Objects;

/**
 * Settings of a gateway node. Built from a JSON object whose keys are listed in
 * chat-gateway/README.md; absent keys take the defaults in {@link #from(JsonObject)}.
 */
public record GatewayConfig(
    String nodeId,
    String nodeName,
    String bindHost,
    int tcpPort,
    int httpPort,
    int maxFrameBytes,
    int authTimeoutSeconds,
    int heartbeatIntervalSeconds,
    int heartbeatTimeoutSeconds,
    int keepAliveIdleSeconds,
    int keepAliveIntervalSeconds,
    int keepAliveCount,
    String loginConflict,
    long requestTimeoutMs,
    int rateLimitPerSecond,
    ZoneId timezone,
    String adminToken,
    int outboundMaxBytes,
    long reconnectAfterMs,
    int tcpInstances,
    boolean servicesColocated,
    int inboundMaxBytes,
    int offlinePage,
    int offlineMax,
    int historyDays,
    long passwordTimeoutMs,
    long slowConsumerGraceMs,
    int repairSeconds,
    String tlsCertPath,
    String tlsKeyPath,
    int internalPort,
    int loginFailuresPerAccount,
    int loginFailuresPerAddress,
    int loginsInFlight) {

  public GatewayConfig {
    Objects.requireNonNull(nodeId, "nodeId");
    Objects.requireNonNull(timezone, "timezone");
    LoginPolicy.parse(loginConflict);
    if (tcpPort < 0 || tcpPort > 65535 || httpPort < 0 || httpPort > 65535
        || internalPort < -1 || internalPort > 65535) {
      throw new IllegalArgumentException("ports must be within 0..65535");
    }
    if ((tlsCertPath == null) != (tlsKeyPath == null)) {
      throw new IllegalArgumentException("TLS needs both CHAT_TLS_CERT and CHAT_TLS_KEY");
    }
    if (maxFrameBytes < 64 || heartbeatTimeoutSeconds <= heartbeatIntervalSeconds
        || heartbeatIntervalSeconds <= 0 || authTimeoutSeconds <= 0 || rateLimitPerSecond <= 0
        || outboundMaxBytes < maxFrameBytes || tcpInstances <= 0
        || inboundMaxBytes < maxFrameBytes || offlinePage <= 0 || offlineMax <= 0
        || historyDays < 0 || passwordTimeoutMs <= 0 || slowConsumerGraceMs < 0
        || repairSeconds <= 0 || loginsInFlight <= 0) {
      throw new IllegalArgumentException("gateway settings out of range: " + this);
    }
  }

  public static GatewayConfig from(JsonObject json) {
    int maxFrame = json.getInteger("maxFrameBytes", 65536);
    return new GatewayConfig(
        json.getString("nodeId"),
        json.getString("nodeName", json.getString("nodeId")),
        json.getString("bindHost", "0.0.0.0"),
        json.getInteger("tcpPort", 6000),
        json.getInteger("httpPort", 8080),
        maxFrame,
        json.getInteger("authTimeoutSeconds", 120),
        json.getInteger("heartbeatIntervalSeconds", 10),
        json.getInteger("heartbeatTimeoutSeconds", 25),
        json.getInteger("keepAliveIdleSeconds", 60),
        json.getInteger("keepAliveIntervalSeconds", 5),
        json.getInteger("keepAliveCount", 3),
        LoginPolicy.parse(json.getString("loginConflict", LoginPolicy.KICK.wireName())).wireName(),
        json.getLong("requestTimeoutMs", 5000L),
        json.getInteger("rateLimitPerSecond", 200),
        ZoneId.of(json.getString("timezone", "UTC")),
        json.getString("adminToken"),
        json.getInteger("outboundMaxBytes", Math.max(4 * 1024 * 1024, 2 * maxFrame)),
        json.getLong("reconnectAfterMs", 1000L),
        json.getInteger("tcpInstances", 1),
        json.getBoolean("servicesColocated", false),
        json.getInteger("inboundMaxBytes", 2 * maxFrame),
        json.getInteger("offlinePage", 200),
        json.getInteger("offlineMax", 10_000),
        json.getInteger("historyDays", 30),
        json.getLong("passwordTimeoutMs", Math.max(30_000L, json.getLong("requestTimeoutMs", 5000L))),
        json.getLong("slowConsumerGraceMs", 1000L),
        json.getInteger("repairSeconds", 10),
        json.getString("tlsCertPath"),
        json.getString("tlsKeyPath"),
        json.getInteger("internalPort", -1),
        json.getInteger("loginFailuresPerAccount", 5),
        json.getInteger("loginFailuresPerAddress", 100),
        json.getInteger("loginsInFlight", 128));
  }

  /** What a login does when the account already has a live session (CHAT_LOGIN_CONFLICT). */
  public LoginPolicy loginPolicy() {
    return LoginPolicy.parse(loginConflict);
  }

  /** Whether the client listeners (TCP and HTTP) accept TLS only. */
  public boolean tls() {
    return tlsCertPath != null;
  }

  /** Whether health, metrics and the API are served on their own port (else on httpPort). */
  public boolean hasInternalPort() {
    return internalPort >= 0;
  }

  @Override
  public String toString() {
    return "GatewayConfig[node=" + nodeName + ", tcp=" + tcpPort + ", http=" + httpPort
        + ", maxFrame=" + maxFrameBytes + ", loginConflict=" + loginConflict + ", tls=" + tls()
        + ", internal=" + (hasInternalPort() ? internalPort : "-") + "]";
  }
}
