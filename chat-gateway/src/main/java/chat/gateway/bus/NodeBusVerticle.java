package chat.gateway.bus;

import chat.gateway.handler.Requests;
import chat.gateway.session.Session;
import chat.gateway.session.SessionRegistry;
import chat.protocol.bus.Addresses;
import chat.protocol.bus.FailureCodes;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
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

  private void onDeliver(Message<JsonObject> msg) {
    JsonObject body = msg.body();
    registry.deliver(body.getInteger("userId"), body.getJsonObject("payload"))
        .onSuccess(count -> {
          if (count > 0) {
            msg.reply(new JsonObject().put("delivered", count));
          } else {
            msg.fail(FailureCodes.NO_SESSION, "no session of that user here");
          }
        })
        .onFailure(err -> msg.fail(FailureCodes.INTERNAL, err.getMessage()));
  }

  private void onOfflineCheck(Message<JsonObject> msg) {
    for (Session session : registry.sessionsOf(msg.body().getInteger("userId"))) {
      session.context().runOnContext(v -> requests.deliverStored(session));
    }
  }

  private void onKick(Message<JsonObject> msg) {
    JsonObject body = msg.body();
    registry.kick(body.getInteger("userId"), body.getString("sessionId"))
        .onComplete(ar -> msg.reply(new JsonObject()));
  }
}
