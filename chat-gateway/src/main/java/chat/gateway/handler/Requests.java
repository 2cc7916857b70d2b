package chat.gateway.handler;

import chat.gateway.GatewayConfig;
import chat.gateway.bus.ServiceClient;
import chat.gateway.session.RequestHandler;
import chat.gateway.session.Session;
import chat.gateway.session.UniqueIds;
import chat.protocol.wire.ErrorCode;
import chat.protocol.wire.Fields;
import chat.protocol.wire.MsgId;
import chat.protocol.wire.ProtocolException;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

/**
 * Routes a client request by its msgid. A visitor may only LOGIN, REG (and PING, answered by
 * the session itself); an unknown msgid, or one only the server sends, is a bad request.
 */
public final class Requests implements RequestHandler {

  private final AccountHandler account;
  private final ChatHandler chat;
  private final SocialHandler social;

  public Requests(GatewayConfig config, ServiceClient services, Delivery delivery) {
    this.account = new AccountHandler(config, services);
    this.chat = new ChatHandler(services, delivery, new UniqueIds(config.nodeId(), '-'),
        config.timezone());
    this.social = new SocialHandler(services, delivery);
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
        if (session.state() != Session.State.USER) {
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
      default -> throw ProtocolException.badRequest("unknown msgid " + msgid);
    };
  }
}
