package chat.gateway.handler;

import chat.gateway.GatewayConfig;
import chat.gateway.bus.ServiceClient;
import chat.gateway.session.RequestHandler;
import chat.gateway.session.Session;
import chat.gateway.session.SessionLog;
import chat.gateway.session.UniqueIds;
import chat.protocol.wire.ErrorCode;
import chat.protocol.wire.Fields;
import chat.protocol.wire.MsgId;
import chat.protocol.wire.ProtocolException;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Routes a client request by its msgid. A visitor may only LOGIN, REG (and PING, answered by
 * the session itself); an unknown msgid, or one only the server sends, is a bad request.
 */
public final class Requests implements RequestHandler {

  private static final Logger LOG = LoggerFactory.getLogger(Requests.class);
  /** Rounds of storing a closed session's unwritten chats (each with the store's retries). */
  private static final int KEEP_ROUNDS = 3;

  private final AccountHandler account;
  private final ChatHandler chat;
  private final SocialHandler social;
  private final OfflineHandler offline;
  private final HistoryHandler history;
  private final MessageStore store;

  public Requests(GatewayConfig config, ServiceClient services, Delivery delivery,
                  LoginThrottle throttle) {
    this.offline = new OfflineHandler(config, services);
    this.account = new AccountHandler(config, services, offline, throttle);
    this.chat = new ChatHandler(delivery, new UniqueIds(config.nodeId(), '-'),
        config.timezone());
    this.social = new SocialHandler(services, delivery);
    this.history = new HistoryHandler(services);
    this.store = delivery.store();
  }

  @Override
  public Future<Void> keep(Session session, int userId, List<JsonObject> messages) {
    LOG.info("storing {} unwritten messages of user {} for the next login", messages.size(),
        userId);
    return keep(userId, messages, 1);
  }

  private Future<Void> keep(int userId, List<JsonObject> messages, int round) {
    List<Future<MessageStore.Outcome>> appends = new ArrayList<>(messages.size());
    for (JsonObject message : messages) {
      appends.add(store.append(message, List.of(userId), false));
    }
    return Future.join(appends).transform(all -> {
      List<JsonObject> again = new ArrayList<>();
      for (int i = 0; i < messages.size(); i++) {
        if (appends.get(i).failed()) {
          again.add(messages.get(i));
        } else if (!appends.get(i).result().full().isEmpty()) {
          LOG.warn("message {} for user {} not kept: mailbox full",
              messages.get(i).getString("msgno"), userId);
        }
      }
      if (again.isEmpty()) {
        return Future.succeededFuture();
      }
      if (round >= KEEP_ROUNDS) {
        LOG.error("{} unwritten messages of user {} could not be stored", again.size(), userId);
        return Future.succeededFuture();
      }
      return keep(userId, again, round + 1);
    });
  }

  /** Stored messages for a user online here: the session delivers those it has not had. */
  public Future<Void> deliverStored(Session session) {
    return account.deliverStored(session);
  }

  @Override
  public Future<Void> handle(Session session, JsonObject request) {
    int msgid = Fields.msgid(request);
    switch (msgid) {
      case MsgId.LOGIN:
        return account.login(session, request);
      case MsgId.REG:
        return account.register(session, request);
      case MsgId.LOGINOUT:
      case MsgId.ONE_CHAT:
      case MsgId.ADD_FRIEND:
      case MsgId.CREATE_GROUP:
      case MsgId.ADD_GROUP:
      case MsgId.GROUP_CHAT:
      case MsgId.PRESENCE_QUERY:
      case MsgId.OFFLINE_ACK:
      case MsgId.HISTORY:
        if (session.state() != Session.State.USER) {
          SessionLog.info(LOG, "not-logged-in", session.connectionId(), -1,
              "request {} on {} refused: not logged in", msgid, session.connectionId());
          throw new ProtocolException(ErrorCode.NOT_LOGGED_IN, "log in first");
        }
        return asUser(session, request, msgid);
      default:
        throw ProtocolException.badRequest("unknown msgid " + msgid);
    }
  }

  private Future<Void> asUser(Session session, JsonObject request, int msgid) {
    return switch (msgid) {
      case MsgId.LOGINOUT -> account.logout(session, request);
      case MsgId.ONE_CHAT -> chat.oneChat(session, request);
      case MsgId.ADD_FRIEND -> social.addFriend(session, request);
      case MsgId.CREATE_GROUP -> social.createGroup(session, request);
      case MsgId.ADD_GROUP -> social.joinGroup(session, request);
      case MsgId.GROUP_CHAT -> chat.groupChat(session, request);
      case MsgId.PRESENCE_QUERY -> social.presenceQuery(session, request);
      case MsgId.OFFLINE_ACK -> offline.offlineAck(session, request);
      case MsgId.HISTORY -> history.history(session, request);
      default -> throw ProtocolException.badRequest("unknown msgid " + msgid);
    };
  }
}
