package chat.gateway.handler;

import chat.gateway.GatewayMetrics;
import chat.gateway.session.Session;
import chat.gateway.session.UniqueIds;
import chat.protocol.wire.Fields;
import chat.protocol.wire.MsgId;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;

/**
 * ONE_CHAT and GROUP_CHAT: the sender always comes from the session, never the request. A
 * chat takes effect (gets its msgno and its place in its lane) at once, so the next request
 * of the connection is handled without waiting for this one's delivery; the chat is answered
 * by its lane (see {@link ChatLanes}).
 */
final class ChatHandler {

  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss");

  private final Delivery delivery;
  private final UniqueIds numbers;
  private final ZoneId zone;
  /** The text of the current second, made once a second rather than at every chat. */
  private volatile Stamp stamp = new Stamp(Long.MIN_VALUE, "");

  ChatHandler(Delivery delivery, UniqueIds numbers, ZoneId zone) {
    this.delivery = delivery;
    this.numbers = numbers;
    this.zone = zone;
  }

  Future<Void> oneChat(Session session, JsonObject request) {
    int toId = Fields.id(request, "toid");
    JsonObject message = message(session, request, MsgId.ONE_CHAT, "toid", toId);
    lanes(session).toUser(toId, new ChatLanes.Chat(message, request,
        GatewayMetrics.current().timeDelivery("one_chat", session.keepHeld())));
    return Future.succeededFuture();
  }

  Future<Void> groupChat(Session session, JsonObject request) {
    int groupId = Fields.id(request, "groupid");
    JsonObject message = message(session, request, MsgId.GROUP_CHAT, "groupid", groupId);
    lanes(session).toGroup(groupId, new ChatLanes.Chat(message, request,
        GatewayMetrics.current().timeDelivery("group_chat", session.keepHeld())));
    return Future.succeededFuture();
  }

  private ChatLanes lanes(Session session) {
    return session.attachment(() -> new ChatLanes(session, delivery));
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
    return given != null && !given.isBlank() ? given : now();
  }

  private String now() {
    long second = Math.floorDiv(System.currentTimeMillis(), 1000);
    Stamp current = stamp;
    if (current.second() != second) {
      current = new Stamp(second, TIME.format(Instant.ofEpochSecond(second).atZone(zone)));
      stamp = current;
    }
    return current.text();
  }

  private record Stamp(long second, String text) {
  }
}
