package chat.gateway.report;

import chat.gateway.session.SessionEvents;
import chat.protocol.bus.Addresses;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reports what is left when a user session ends:
 * <ul>
 *   <li>the end itself, to the presence service. The report names the session, so a late
 *   report never removes a newer session of the same user; it is retried with backoff until
 *   presence confirms it, so no end is lost while this node lives;</li>
 *   <li>chat messages accepted for the user but never written to the socket (the client was
 *   too slow, or the connection broke), stored in order as offline messages.</li>
 * </ul>
 */
public final class SessionEndReporter implements SessionEvents {

  private static final Logger LOG = LoggerFactory.getLogger(SessionEndReporter.class);
  private static final long MAX_BACKOFF_MS = 5_000;

  private final Vertx vertx;
  private final String nodeId;
  private final DeliveryOptions options;
  private final AtomicInteger unconfirmed = new AtomicInteger();

  public SessionEndReporter(Vertx vertx, String nodeId, long timeoutMs) {
    this.vertx = vertx;
    this.nodeId = nodeId;
    this.options = new DeliveryOptions().setSendTimeout(timeoutMs);
  }

  @Override
  public void userSessionEnded(int userId, String sessionId, String why) {
    JsonObject report = new JsonObject().put("userId", userId).put("sessionId", sessionId)
        .put("nodeId", nodeId).put("reason", why);
    unconfirmed.incrementAndGet();
    send(report, 100);
  }

  /**
   * Completes once every end reported so far is confirmed by presence (which confirms after
   * the user's transition is done: row written, friends told), or after {@code boundMs}.
   * A draining node waits for this before it stops the services those steps need.
   */
  public Future<Void> allConfirmed(long boundMs) {
    long deadline = System.nanoTime() + boundMs * 1_000_000;
    Promise<Void> done = Promise.promise();
    checkConfirmed(deadline, boundMs, done);
    return done.future();
  }

  private void checkConfirmed(long deadlineNanos, long boundMs, Promise<Void> done) {
    int left = unconfirmed.get();
    if (left == 0) {
      done.complete();
    } else if (System.nanoTime() > deadlineNanos) {
      LOG.warn("{} session ends still unconfirmed by presence after {} ms; the digest and the"
          + " database reconciliation complete them", left, boundMs);
      done.complete();
    } else {
      vertx.setTimer(20, t -> checkConfirmed(deadlineNanos, boundMs, done));
    }
  }

  private void send(JsonObject report, long backoffMs) {
    vertx.eventBus().request(Addresses.PRESENCE_DISCONNECT, report, options)
        .onSuccess(reply -> unconfirmed.decrementAndGet())
        .onFailure(err -> {
          LOG.warn("end of session {} not yet confirmed by presence ({}); retry in {} ms",
              report.getString("sessionId"), err.getMessage(), backoffMs);
          vertx.setTimer(backoffMs,
              t -> send(report, Math.min(backoffMs * 2, MAX_BACKOFF_MS)));
        });
  }
}
