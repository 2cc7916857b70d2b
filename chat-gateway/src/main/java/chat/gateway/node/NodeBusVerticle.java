package chat.gateway.node;

import chat.gateway.handler.Requests;
import chat.gateway.session.Session;
import chat.gateway.session.SessionRegistry;
import chat.protocol.bus.Addresses;
import chat.protocol.bus.FailureCodes;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * This node's side of the event bus: messages for users connected here, kicks of sessions
 * held here, and broadcasts.
 */
public final class NodeBusVerticle extends VerticleBase {

  private final String nodeId;
  private final SessionRegistry registry;
  private final Requests requests;

  public NodeBusVerticle(String nodeId, SessionRegistry registry, Requests requests) {
    this.nodeId = nodeId;
    this.registry = registry;
    this.requests = requests;
  }

  @Override
  public Future<?> start() {
    EventBus bus = vertx.eventBus();
    return Future.all(List.of(
        bus.consumer(Addresses.gatewayDeliver(nodeId), this::onDeliver).completion(),
        bus.consumer(Addresses.gatewayKick(nodeId), this::onKick).completion(),
        bus.<JsonObject>consumer(Addresses.gatewayOfflineCheck(nodeId), this::onOfflineCheck)
            .completion(),
        bus.<JsonObject>consumer(Addresses.GATEWAY_BROADCAST,
            msg -> registry.broadcast(msg.body().getJsonObject("payload"))).completion()));
  }

  /**
   * {userId, payload, sessionId?, deadline?}: to that one session (a chat), or to every
   * session of the user here. A delivery past its deadline is refused: its sender has given
   * up on it and stores it, so writing it too would deliver it twice.
   */
  private void onDeliver(Message<JsonObject> msg) {
    JsonObject body = msg.body();
    int userId = body.getInteger("userId");
    String sessionId = body.getString("sessionId");
    Long deadline = body.getLong("deadline");
    if (deadline != null && System.currentTimeMillis() > deadline) {
      msg.fail(FailureCodes.NO_SESSION, "delivery arrived after its deadline");
      return;
    }
    Future<Integer> delivered;
    if (sessionId == null) {
      delivered = registry.deliver(userId, body.getJsonObject("payload"));
    } else {
      // Each session checks on its own event loop whether it is the one named.
      List<Future<Boolean>> tries = new ArrayList<>();
      for (Session session : registry.sessionsOf(userId)) {
        tries.add(session.deliver(sessionId, body.getJsonObject("payload")));
      }
      delivered = Future.all(tries).map(all -> {
        int count = 0;
        for (Future<Boolean> t : tries) {
          count += Boolean.TRUE.equals(t.result()) ? 1 : 0;
        }
        return count;
      });
    }
    delivered
        .onSuccess(count -> {
          if (count > 0) {
            msg.reply(new JsonObject().put("delivered", count));
          } else {
            msg.fail(FailureCodes.NO_SESSION, "no session of that user here");
          }
        })
        .onFailure(err -> msg.fail(FailureCodes.INTERNAL, err.getMessage()));
  }

  /**
   * {userId, sessionId?} → {} once the session (or every session of the user here) has queued
   * the stored messages it had not had; fails NO_SESSION when that session is not here.
   */
  private void onOfflineCheck(Message<JsonObject> msg) {
    int userId = msg.body().getInteger("userId");
    String sessionId = msg.body().getString("sessionId");
    List<Session> sessions = registry.sessionsOf(userId).stream()
        .filter(s -> sessionId == null || sessionId.equals(s.sessionId()))
        .toList();
    if (sessions.isEmpty()) {
      msg.fail(FailureCodes.NO_SESSION, "no session of that user here");
      return;
    }
    List<Future<Void>> checks = new ArrayList<>();
    for (Session session : sessions) {
      Promise<Void> checked = Promise.promise();
      session.context().runOnContext(v -> requests.deliverStored(session).onComplete(checked));
      checks.add(checked.future());
    }
    Future.all(checks).onComplete(ar -> {
      if (ar.succeeded()) {
        msg.reply(new JsonObject());
      } else {
        msg.fail(FailureCodes.NO_SESSION, String.valueOf(ar.cause().getMessage()));
      }
    });
  }

  private void onKick(Message<JsonObject> msg) {
    JsonObject body = msg.body();
    registry.kick(body.getInteger("userId"), body.getString("sessionId"))
        .onComplete(ar -> msg.reply(new JsonObject()));
  }
}
