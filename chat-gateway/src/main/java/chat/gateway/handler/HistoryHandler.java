package chat.gateway.handler;

import chat.gateway.bus.ServiceClient;
import chat.gateway.session.Session;
import chat.protocol.bus.Addresses;
import chat.protocol.bus.user.History;
import chat.protocol.wire.Fields;
import chat.protocol.wire.MsgId;
import chat.protocol.wire.ProtocolException;
import chat.protocol.wire.Replies;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;

/**
 * HISTORY (110): a page of one conversation, newest ones older than {@code before}, oldest
 * first, answered with ACK ref 110 carrying {@code messages} and {@code more}. The user
 * service checks that the session's user takes part (403 otherwise) and answers from the
 * same message log that holds stored messages.
 */
final class HistoryHandler {

  static final int DEFAULT_LIMIT = History.DEFAULT_LIMIT;
  static final int MAX_LIMIT = History.MAX_LIMIT;

  private final ServiceClient services;

  HistoryHandler(ServiceClient services) {
    this.services = services;
  }

  Future<Void> history(Session session, JsonObject request) {
    Integer with = Fields.optionalId(request, "with");
    Integer groupId = Fields.optionalId(request, "groupid");
    if ((with == null) == (groupId == null)) {
      throw ProtocolException.badRequest("give either with or groupid");
    }
    String before = Fields.optionalString(request, "before");
    Integer asked = Fields.optionalId(request, "limit");
    if (asked != null && asked == 0) {
      throw ProtocolException.badRequest("limit must be at least 1");
    }
    int limit = asked == null ? DEFAULT_LIMIT : Math.min(asked, MAX_LIMIT);
    History query = new History(session.userId(), with, groupId, before, limit);
    Object seq = Fields.seq(request);
    return services.request(Addresses.USER_HISTORY, query, History.Reply::fromJson)
        .compose(page -> session.send(Replies.ack(MsgId.HISTORY, seq)
            .put("messages", new JsonArray(new ArrayList<>(page.messages())))
            .put("more", page.more())).otherwiseEmpty());
  }
}
