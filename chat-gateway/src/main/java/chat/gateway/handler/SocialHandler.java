package chat.gateway.handler;

import chat.gateway.bus.ServiceClient;
import chat.gateway.session.Session;
import chat.protocol.bus.Addresses;
import chat.protocol.bus.BusJson;
import chat.protocol.bus.presence.States;
import chat.protocol.bus.presence.UserIds;
import chat.protocol.wire.Fields;
import chat.protocol.wire.MsgId;
import chat.protocol.wire.ProtocolException;
import chat.protocol.wire.Replies;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** ADD_FRIEND, CREATE_GROUP, ADD_GROUP and PRESENCE_QUERY. */
final class SocialHandler {

  private static final Logger LOG = LoggerFactory.getLogger(SocialHandler.class);
  private static final int MAX_QUERY_IDS = 1000;

  private final ServiceClient services;
  private final Delivery delivery;

  SocialHandler(ServiceClient services, Delivery delivery) {
    this.services = services;
    this.delivery = delivery;
  }

  /**
   * Stores the friendship, then tells both sides at once (FRIEND 111 to every open session
   * of each: the other's id, name and state), then ACKs. The friendship is made once the
   * user service has stored it: a push that fails is logged and the request still succeeds.
   */
  Future<Void> addFriend(Session session, JsonObject request) {
    int friendId = Fields.id(request, "friendid");
    int userId = session.userId();
    String userName = session.userName();
    if (friendId == userId) {
      throw ProtocolException.badRequest("cannot add yourself as a friend");
    }
    return services.request(Addresses.USER_FRIEND_ADD,
            new JsonObject().put("userId", userId).put("friendId", friendId))
        .compose(reply -> tellBoth(userId, userName, friendId, reply)
            .otherwise(err -> {
              LOG.warn("FRIEND push for users {} and {} failed: {}", userId, friendId,
                  err.getMessage());
              return null;
            }))
        .compose(v -> AccountHandler.ackIfAsked(session, request));
  }

  private Future<Void> tellBoth(int userId, String userName, int friendId, JsonObject reply) {
    Future<String> friendName = nameOf(userId, friendId, reply.getJsonObject("friend"));
    String ownName = userName(reply.getJsonObject("user"), userName);
    Future<JsonObject> presence = services.request(Addresses.PRESENCE_QUERY,
        BusJson.toJson(UserIds.of(userId, friendId)));
    return Future.all(friendName, presence).compose(all -> {
      JsonObject states = presence.result().getJsonObject("states", new JsonObject());
      JsonObject versions = presence.result().getJsonObject("versions", new JsonObject());
      JsonObject toFriend = Replies.friend(userId, ownName, stateOf(states, userId),
          versionOf(versions, states, userId));
      JsonObject toUser = Replies.friend(friendId, friendName.result(), stateOf(states, friendId),
          versionOf(versions, states, friendId));
      return Future.all(delivery.toOnlineSessions(friendId, toFriend),
          delivery.toOnlineSessions(userId, toUser)).mapEmpty();
    });
  }

  /**
   * The friend's name: from the user service's reply ({@code friend:{id,name}}); a user
   * service that answers {@code {}} is asked for the user's friends instead.
   */
  private Future<String> nameOf(int userId, int friendId, JsonObject friend) {
    String name = userName(friend, null);
    if (name != null) {
      return Future.succeededFuture(name);
    }
    return services.request(Addresses.USER_PROFILE, new JsonObject().put("userId", userId))
        .map(profile -> {
          for (Object f : profile.getJsonArray("friends", new JsonArray())) {
            JsonObject known = (JsonObject) f;
            if (Integer.valueOf(friendId).equals(known.getInteger("id"))) {
              return known.getString("name");
            }
          }
          return null;
        });
  }

  private static String userName(JsonObject user, String fallback) {
    return user != null && user.getValue("name") instanceof String name ? name : fallback;
  }

  private static String stateOf(JsonObject states, int userId) {
    Object state = states.getValue(String.valueOf(userId));
    if (state instanceof JsonObject detailed) {
      state = detailed.getValue("state");
    }
    return "online".equals(state) ? "online" : "offline";
  }

  /** The version of a user's state, when the presence service reports one. */
  private static Long versionOf(JsonObject versions, JsonObject states, int userId) {
    Object v = versions.getValue(String.valueOf(userId));
    if (v == null && states.getValue(String.valueOf(userId)) instanceof JsonObject detailed) {
      v = detailed.getValue("v");
    }
    return v instanceof Number n ? n.longValue() : null;
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
    UserIds ids = UserIds.of(Fields.ids(request, "ids", MAX_QUERY_IDS));
    return services.request(Addresses.PRESENCE_QUERY, BusJson.toJson(ids))
        .map(reply -> BusJson.fromJson(reply, States.class))
        .compose(reply -> session.send(Replies.ack(MsgId.PRESENCE_QUERY, Fields.seq(request))
            .put("states", new JsonObject(new LinkedHashMap<>(reply.states())))));
  }
}
