package chat.gateway.handler;

import chat.gateway.bus.ServiceClient;
import chat.gateway.session.Session;
import chat.protocol.bus.Addresses;
import chat.protocol.wire.Fields;
import chat.protocol.wire.MsgId;
import chat.protocol.wire.ProtocolException;
import chat.protocol.wire.Replies;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/** ADD_FRIEND, CREATE_GROUP, ADD_GROUP and PRESENCE_QUERY. */
final class SocialHandler {

  private static final int MAX_QUERY_IDS = 1000;

  private final ServiceClient services;

  SocialHandler(ServiceClient services) {
    this.services = services;
  }

  Future<Void> addFriend(Session session, JsonObject request) {
    int friendId = Fields.id(request, "friendid");
    if (friendId == session.userId()) {
      throw ProtocolException.badRequest("cannot add yourself as a friend");
    }
    return services.request(Addresses.USER_FRIEND_ADD,
            new JsonObject().put("userId", session.userId()).put("friendId", friendId))
        .compose(v -> AccountHandler.ackIfAsked(session, request));
  }

  Future<Void> createGroup(Session session, JsonObject request) {
    String name = Fields.string(request, "groupname");
    String desc = Fields.optionalString(request, "groupdesc");
    return services.request(Addresses.USER_GROUP_CREATE, new JsonObject()
            .put("userId", session.userId())
            .put("groupname", name)
            .put("groupdesc", desc == null ? "" : desc))
        .compose(created -> session.send(Replies.ack(MsgId.CREATE_GROUP, Fields.seq(request))
            .put("groupid", created.getInteger("groupid"))));
  }

  Future<Void> joinGroup(Session session, JsonObject request) {
    int groupId = Fields.id(request, "groupid");
    return services.request(Addresses.USER_GROUP_JOIN,
            new JsonObject().put("userId", session.userId()).put("groupid", groupId))
        .compose(v -> AccountHandler.ackIfAsked(session, request));
  }

  Future<Void> presenceQuery(Session session, JsonObject request) {
    JsonArray ids = new JsonArray();
    for (int id : Fields.ids(request, "ids", MAX_QUERY_IDS)) {
      ids.add(id);
    }
    return services.request(Addresses.PRESENCE_QUERY, new JsonObject().put("ids", ids))
        .compose(reply -> session.send(Replies.ack(MsgId.PRESENCE_QUERY, Fields.seq(request))
            .put("states", reply.getJsonObject("states", new JsonObject()))));
  }
}
