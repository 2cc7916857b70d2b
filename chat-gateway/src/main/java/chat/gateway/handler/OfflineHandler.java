package chat.gateway.handler;

import chat.gateway.GatewayConfig;
import chat.gateway.bus.ServiceClient;
import chat.gateway.session.Session;
import chat.protocol.bus.Addresses;
import chat.protocol.bus.user.OfflineAck;
import chat.protocol.bus.user.OfflinePage;
import chat.protocol.wire.ErrorCode;
import chat.protocol.wire.Fields;
import chat.protocol.wire.MsgId;
import chat.protocol.wire.ProtocolException;
import chat.protocol.wire.Replies;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stored messages for a user session: the ones in the LOGIN ack, OFFLINE_ACK (109) pages, and
 * the ones stored while the user was already online. The store removes only the messages
 * named by msgno that this session was given, never a range: a message stored concurrently is
 * never deleted undelivered. Classic logins get every stored message in their ack, removed
 * once that ack has been written; {@code "offline":"ack"} logins get pages and remove what
 * they acknowledge.
 */
final class OfflineHandler {

  private static final Logger LOG = LoggerFactory.getLogger(OfflineHandler.class);
  private static final int ACK_ATTEMPTS = 3;
  /** How long a classic client may reset the connection with its login ack unread. */
  static final long CLASSIC_ACK_GRACE_MS = 1_000;

  private final GatewayConfig config;
  private final ServiceClient services;

  OfflineHandler(GatewayConfig config, ServiceClient services) {
    this.config = config;
    this.services = services;
  }

  /** The stored messages for a LOGIN ack: the first page, or all of them (classic). */
  Future<OfflinePage.Reply> forLogin(int userId, boolean ackMode) {
    return page(userId, loginLimit(ackMode));
  }

  /** How many stored messages a LOGIN ack gives at most. */
  int loginLimit(boolean ackMode) {
    return Math.min(ackMode ? config.offlinePage() : config.offlineMax(), OfflinePage.MAX_PAGE);
  }

  /**
   * The login ack is about to be written with this page: the session now holds these msgnos
   * as given (and not acknowledged).
   */
  void given(Session session, OfflinePage.Reply page) {
    for (OfflinePage.Stored stored : page.messages()) {
      session.offlineGiven().add(stored.msgno());
    }
  }

  /**
   * Classic login: the ack was written; what it held is acknowledged once the client shows it
   * read it (its next request, a clean close, or a second without a reset). A client that
   * dies with the ack unread makes its kernel answer with a reset: the messages stay.
   */
  void loginAckWritten(Session session, int userId) {
    if (session.offlineAckMode() || session.offlineGiven().isEmpty()) {
      return;
    }
    acknowledgeOnceRead(session, userId, new ArrayList<>(session.offlineGiven()));
  }

  private void acknowledgeOnceRead(Session session, int userId, List<String> msgnos) {
    session.whenLoginRead(() -> acknowledge(session, userId, msgnos));
    session.context().owner().setTimer(CLASSIC_ACK_GRACE_MS, t -> session.loginRead());
  }

  /** OFFLINE_ACK: acknowledges what was given up to {@code upto}, answered with the next page. */
  Future<Void> offlineAck(Session session, JsonObject request) {
    String upto = Fields.string(request, "upto");
    List<String> msgnos = new ArrayList<>();
    boolean found = false;
    for (String msgno : session.offlineGiven()) {
      msgnos.add(msgno);
      if (msgno.equals(upto)) {
        found = true;
        break;
      }
    }
    if (!found) {
      throw new ProtocolException(ErrorCode.NOT_FOUND, "unknown msgno: " + upto);
    }
    int userId = session.userId();
    String sessionId = session.sessionId();
    return services.request(Addresses.USER_OFFLINE_ACK, new OfflineAck(userId, msgnos),
            OfflineAck.Reply.class)
        .compose(v -> {
          session.offlineGiven().removeAll(msgnos);
          return page(userId, config.offlinePage());
        })
        .compose(page -> {
          if (!sessionId.equals(session.sessionId())) {
            return Future.<Void>succeededFuture();
          }
          given(session, page);
          JsonObject reply = Replies.ack(MsgId.OFFLINE_ACK, Fields.seq(request))
              .put("offlinemsg", messages(page, session.structured()))
              .put("offline_more", page.more());
          return session.send(reply).otherwiseEmpty();
        });
  }

  /**
   * Delivers what is stored for this user and the session has not had (messages stored while
   * it logged in, or for a sender that found it offline a moment ago). The future completes
   * once they are queued for the socket; a check that cannot run now (login under way, or
   * another check running) completes after the next one. Classic sessions acknowledge them
   * once written; acknowledged-delivery sessions keep them given until the client acks.
   */
  Future<Void> deliverStored(Session session) {
    if (session.state() == Session.State.LOGGING_IN || session.offlineCheckRunning()) {
      return session.awaitOfflineCheck();
    }
    if (!session.readyForOfflineCheck()) {
      return Future.succeededFuture();
    }
    int userId = session.userId();
    String sessionId = session.sessionId();
    session.offlineCheckRunning(true);
    return page(userId, config.offlineMax())
        .compose(page -> {
          session.offlineCheckRunning(false);
          if (!sessionId.equals(session.sessionId()) || !session.readyForOfflineCheck()) {
            return Future.<Void>succeededFuture();
          }
          List<String> pushed = new ArrayList<>();
          List<String> had = new ArrayList<>();
          List<Future<Void>> writes = new ArrayList<>();
          for (OfflinePage.Stored stored : page.messages()) {
            String msgno = stored.msgno();
            if (session.alreadyHas(msgno)) {
              had.add(msgno);
              continue;
            }
            writes.add(session.sendStored(stored.message()));
            pushed.add(msgno);
            if (session.offlineAckMode()) {
              session.offlineGiven().add(msgno);
            }
          }
          if (!pushed.isEmpty() && !session.offlineAckMode()) {
            Future.all(writes).onSuccess(v -> acknowledgeOnceRead(session, userId, pushed));
          }
          // A stored copy of a chat this session already had live (a sender stored it when the
          // delivery's answer came too late) is not written again, and is acknowledged once
          // the live one counts as given: left pending, it would come again at the next login.
          if (!had.isEmpty()) {
            session.whenGiven(had).onSuccess(given -> {
              if (!given.isEmpty()) {
                acknowledgeOnceRead(session, userId, given);
              }
            });
          }
          return Future.<Void>succeededFuture();
        })
        .eventually(() -> {
          session.offlineCheckRunning(false);
          Promise<Void> waiters = session.takePendingOfflineCheck();
          if (waiters != null && sessionId.equals(session.sessionId())) {
            deliverStored(session).onComplete(waiters);
          } else if (waiters != null) {
            waiters.tryFail("session changed");
          }
          return Future.succeededFuture();
        });
  }

  /** Tells the store these were delivered; tried a few times (else they come again later). */
  private void acknowledge(Session session, int userId, List<String> msgnos) {
    acknowledge(session, userId, msgnos, 1);
  }

  private void acknowledge(Session session, int userId, List<String> msgnos, int attempt) {
    services.request(Addresses.USER_OFFLINE_ACK, new OfflineAck(userId, msgnos),
            OfflineAck.Reply.class)
        .onSuccess(v -> {
          if (session.userId() == userId) {
            session.offlineGiven().removeAll(msgnos);
          }
        })
        .onFailure(err -> {
          if (attempt < ACK_ATTEMPTS) {
            session.context().owner().setTimer(500L * attempt,
                t -> acknowledge(session, userId, msgnos, attempt + 1));
          } else {
            LOG.warn("{} delivered messages of user {} not acknowledged ({}): they come again",
                msgnos.size(), userId, err.getMessage());
          }
        });
  }

  private Future<OfflinePage.Reply> page(int userId, int limit) {
    return services.request(Addresses.USER_OFFLINE_PAGE,
        new OfflinePage(userId, Math.min(limit, OfflinePage.MAX_PAGE)),
        OfflinePage.Reply::fromJson);
  }

  /** A page's messages as the LOGIN ack shows them: JSON texts, or objects when structured. */
  static JsonArray messages(OfflinePage.Reply page, boolean structured) {
    JsonArray out = new JsonArray();
    for (OfflinePage.Stored stored : page.messages()) {
      out.add(structured ? stored.message() : stored.message().encode());
    }
    return out;
  }
}
