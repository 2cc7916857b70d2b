package chat.gateway.report;

import chat.gateway.session.Session;
import chat.gateway.session.SessionRegistry;
import chat.protocol.bus.Addresses;
import chat.protocol.bus.presence.Digest;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway's side of presence anti-entropy: every CHAT_REPAIR_S / 3 it publishes the list
 * of the user sessions this node holds ({@link Addresses#PRESENCE_NODE_DIGEST}), so presence
 * can remove sessions whose end report was lost (or whose login was abandoned after presence
 * added it) and put back sessions it lost.
 *
 * <p>Each presence connect carries a number from {@link #nextConnectSeq()}, taken after the
 * session joined the registry; a digest carries the counter read before the registry is
 * listed. A session numbered up to it is therefore either in the list or ended; a later one
 * may be missing from the list only because it is newer, and presence leaves it alone.
 */
public final class SessionDigestReporter {

  private static final Logger LOG = LoggerFactory.getLogger(SessionDigestReporter.class);
  /** Grows for the life of the process, so it also grows for each node started in it. */
  private static final AtomicLong CONNECTS = new AtomicLong();

  private final Vertx vertx;
  private final String nodeId;
  private final SessionRegistry registry;
  private final long intervalMs;
  private long timer = -1;

  public SessionDigestReporter(Vertx vertx, String nodeId, SessionRegistry registry,
                               int repairSeconds) {
    this.vertx = vertx;
    this.nodeId = nodeId;
    this.registry = registry;
    this.intervalMs = Math.max(1, repairSeconds * 1000L / 3);
  }

  /** The number of the next presence connect of this process. */
  public static long nextConnectSeq() {
    return CONNECTS.incrementAndGet();
  }

  public void start() {
    timer = vertx.setPeriodic(intervalMs, t -> publish());
  }

  /** Stops sending digests: a draining node reports its sessions' ends itself. */
  public void stop() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
      timer = -1;
    }
  }

  /** The digest as it stands now. */
  public Digest digest() {
    long upTo = CONNECTS.get();
    List<Digest.Entry> sessions = new ArrayList<>();
    registry.forEachUserSession((userId, session) -> {
      Session.State state = session.state();
      String sessionId = session.sessionId();
      if (sessionId != null && (state == Session.State.USER || state == Session.State.LOGGING_IN)) {
        sessions.add(new Digest.Entry(userId, sessionId, session.transport(),
            state == Session.State.USER));
      }
    });
    return new Digest(nodeId, upTo, sessions);
  }

  private void publish() {
    Digest digest = digest();
    LOG.debug("session digest of node {}: {} sessions", nodeId, digest.sessions().size());
    vertx.eventBus().publish(Addresses.PRESENCE_NODE_DIGEST, digest.toJson());
  }
}
