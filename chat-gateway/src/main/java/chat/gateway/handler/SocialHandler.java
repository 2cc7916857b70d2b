package chat.gateway.handler;

import chat.gateway.bus.ServiceClient;
import chat.gateway.session.Session;
import chat.protocol.bus.Addresses;
import chat.protocol.bus.BusJson;
import chat.protocol.bus.presence.States;
import chat.protocol.bus.presence.UserIds;
import chat.protocol.bus.user.Empty;
import chat.protocol.bus.user.FriendAdd;
import chat.protocol.bus.user.GroupCreate;
import chat.protocol.bus.user.GroupRef;
import chat.protocol.bus.user.NameCard;
import chat.protocol.bus.user.Profile;
import chat.protocol.bus.user.UserRef;
import chat.protocol.wire.Fields;
import chat.protocol.wire.MsgId;
import chat.protocol.wire.ProtocolException;
import chat.protocol.wire.Replies;
import io.vertx.core.Future;
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
    return services.request(Addresses.USER_FRIEND_ADD, new FriendAdd(userId, friendId),
            FriendAdd.Reply.class)
        .compose(reply -> tellBoth(userId, userName, friendId, reply)
            .otherwise(err -> {
              LOG.warn("FRIEND push for users {} and {} failed: {}", userId, friendId,
                  err.getMessage());
              return null;
            }))
        .compose(v -> AccountHandler.ackIfAsked(session, request));
  }

  private Future<Void> tellBoth(int userId, String userName, int friendId,
                                FriendAdd.Reply reply) {
    Future<String> friendName = nameOf(userId, friendId, reply.friend());
    String ownName = userName(reply.user(), userName);
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
  private Future<String> nameOf(int userId, int friendId, NameCard friend) {
    String name = userName(friend, null);
    if (name != null) {
      return Future.succeededFuture(name);
    }
    return services.request(Addresses.USER_PROFILE, new UserRef(userId), Profile.class)
        .map(profile -> profile.friends().stream()
            .filter(known -> known.id() == friendId)
            .map(NameCard::name)
            .findFirst()
            .orElse(null));
  }

  private static String userName(NameCard user, String fallback) {
    return user != null && user.name() != null ? user.name() : fallback;
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
    return services.request(Addresses.USER_GROUP_CREATE,
            new GroupCreate(session.userId(), name, desc == null ? "" : desc),
            GroupCreate.Reply.class)
        .compose(created -> session.send(Replies.ack(MsgId.CREATE_GROUP, Fields.seq(request))
            .put("groupid", created.groupid())));
  }

  Future<Void> joinGroup(Session session, JsonObject request) {
    int groupId = Fields.id(request, "groupid");
    return services.request(Addresses.USER_GROUP_JOIN, new GroupRef(session.userId(), groupId),
            Empty.class)
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
