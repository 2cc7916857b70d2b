package chat.gateway.report;

import chat.gateway.bus.ServiceClient;
import chat.gateway.session.SessionEvents;
import chat.protocol.bus.Addresses;
import chat.protocol.bus.BusJson;
import chat.protocol.bus.presence.Disconnect;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reports what is left when a user session ends:
 * <ul>
 *   <li>the end itself, to the presence service (the one in this process first, when there is
 *   one). The report names the session, so a late report never removes a newer session of
 *   the same user; it is retried with backoff until presence confirms it, so no end is lost
 *   while this node lives. Presence answers once the user's transition is done (row written,
 *   friends told), and a stopping node waits for those answers before it stops its
 *   services. Each try waits the whole request timeout: a retry is answered at once (the
 *   session is already ended), maybe before the first try's transition is done. So a report
 *   that the cluster routes to a node that has just died (its consumers are still listed
 *   for a moment) is retried only after that timeout; the node's next session digest
 *   repairs the map sooner;</li>
 *   <li>chat messages accepted for the user but never written to the socket (the client was
 *   too slow, or the connection broke), stored in order as offline messages.</li>
 * </ul>
 */
public final class SessionEndReporter implements SessionEvents {

  private static final Logger LOG = LoggerFactory.getLogger(SessionEndReporter.class);
  private static final long MAX_BACKOFF_MS = 5_000;

  private final Vertx vertx;
  private final ServiceClient services;
  private final String nodeId;
  private final long timeoutMs;
  private final AtomicInteger unconfirmed = new AtomicInteger();

  public SessionEndReporter(Vertx vertx, ServiceClient services, String nodeId, long timeoutMs) {
    this.vertx = vertx;
    this.services = services;
    this.nodeId = nodeId;
    this.timeoutMs = timeoutMs;
  }

  @Override
  public void userSessionEnded(int userId, String sessionId, String why) {
    Disconnect report = new Disconnect(userId, sessionId, nodeId, why);
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

  private void send(Disconnect report, long backoffMs) {
    // the record itself to the presence service of this process (no JSON either way)
    services.request(Addresses.PRESENCE_DISCONNECT, report, BusJson::toJson,
            Disconnect.Reply.class, body -> BusJson.fromJson(body, Disconnect.Reply.class),
            timeoutMs)
        .onSuccess(reply -> unconfirmed.decrementAndGet())
        .onFailure(err -> {
          LOG.warn("end of session {} not yet confirmed by presence ({}); retry in {} ms",
              report.sessionId(), err.getMessage(), backoffMs);
          vertx.setTimer(backoffMs, t -> send(report, Math.min(backoffMs * 2, MAX_BACKOFF_MS)));
        });
  }
}
