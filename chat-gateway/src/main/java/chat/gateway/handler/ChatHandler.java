package chat.gateway.handler;

import chat.gateway.GatewayMetrics;
import chat.gateway.bus.ServiceClient;
import chat.gateway.session.Session;
import chat.gateway.session.UniqueIds;
import chat.protocol.bus.Addresses;
import chat.protocol.wire.Fields;
import chat.protocol.wire.MsgId;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;

/** ONE_CHAT and GROUP_CHAT: the sender always comes from the session, never the request. */
final class ChatHandler {

  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss");

  private final ServiceClient services;
  private final Delivery delivery;
  private final UniqueIds numbers;
  private final ZoneId zone;

  ChatHandler(ServiceClient services, Delivery delivery, UniqueIds numbers, ZoneId zone) {
    this.services = services;
    this.delivery = delivery;
    this.numbers = numbers;
    this.zone = zone;
  }

  Future<Void> oneChat(Session session, JsonObject request) {
    int toId = Fields.id(request, "toid");
    JsonObject message = message(session, request, MsgId.ONE_CHAT, "toid", toId);
    return GatewayMetrics.current().timeDelivery("one_chat", delivery.toUser(toId, message))
        .compose(v -> AccountHandler.ackIfAsked(session, request));
  }

  Future<Void> groupChat(Session session, JsonObject request) {
    int groupId = Fields.id(request, "groupid");
    JsonObject message = message(session, request, MsgId.GROUP_CHAT, "groupid", groupId);
    JsonObject query = new JsonObject().put("userId", session.userId()).put("groupid", groupId);
    return services.request(Addresses.USER_GROUP_MEMBERS, query)
        .compose(reply -> {
          List<Integer> others = new ArrayList<>();
          JsonArray members = reply.getJsonArray("members", new JsonArray());
          for (int i = 0; i < members.size(); i++) {
            int member = members.getInteger(i);
            if (member != session.userId()) {
              others.add(member);
            }
          }
          return others.isEmpty()
              ? Future.<Void>succeededFuture()
              : GatewayMetrics.current().timeDelivery("group_chat", delivery.toUsers(others, message, false));
        })
        .compose(v -> AccountHandler.ackIfAsked(session, request));
  }

  /** The message as delivered: the sender from the session, a server time, a new msgno. */
  private JsonObject message(Session session, JsonObject request, int msgid, String targetField,
                             int target) {
    return new JsonObject()
        .put("msgid", msgid)
        .put("id", session.userId())
        .put("name", session.userName())
        .put(targetField, target)
        .put("msg", Fields.string(request, "msg"))
        .put("time", timeOf(request))
        .put("msgno", numbers.next());
  }

  /** The client's {@code time} when it gave one, else now, as {@code YYYY-MM-DD HH:MM:SS}. */
  private String timeOf(JsonObject request) {
    String given = Fields.optionalString(request, "time");
    return given != null && !given.isBlank() ? given : TIME.format(ZonedDateTime.now(zone));
  }
}
