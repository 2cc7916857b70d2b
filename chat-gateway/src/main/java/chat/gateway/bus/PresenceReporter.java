package chat.gateway.bus;

import chat.gateway.session.SessionEvents;
import chat.protocol.bus.Addresses;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reports the end of each user session to the presence service. The report names the
 * session, so a late report never removes a newer session of the same user; it is retried
 * with backoff until presence confirms it, so no end is lost while this node lives.
 */
public final class PresenceReporter implements SessionEvents {

  private static final Logger LOG = LoggerFactory.getLogger(PresenceReporter.class);
  private static final long MAX_BACKOFF_MS = 5_000;

  private final Vertx vertx;
  private final String nodeId;
  private final DeliveryOptions options;

  public PresenceReporter(Vertx vertx, String nodeId, long timeoutMs) {
    this.vertx = vertx;
    this.nodeId = nodeId;
    this.options = new DeliveryOptions().setSendTimeout(timeoutMs);
  }

  @Override
  public void userSessionEnded(int userId, String sessionId, String why) {
    JsonObject report = new JsonObject().put("userId", userId).put("sessionId", sessionId)
        .put("nodeId", nodeId).put("reason", why);
    send(report, 100);
  }

  private void send(JsonObject report, long backoffMs) {
    vertx.eventBus().request(Addresses.PRESENCE_DISCONNECT, report, options)
        .onFailure(err -> {
          LOG.warn("end of session {} not yet confirmed by presence ({}); retry in {} ms",
              report.getString("sessionId"), err.getMessage(), backoffMs);
          vertx.setTimer(backoffMs,
              t -> send(report, Math.min(backoffMs * 2, MAX_BACKOFF_MS)));
        });
  }
}
