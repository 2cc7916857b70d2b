package chat.gateway.node;

import chat.gateway.handler.Requests;
import chat.gateway.session.Session;
import chat.gateway.session.SessionRegistry;
import chat.protocol.bus.Addresses;
import chat.protocol.bus.BusJson;
import chat.protocol.bus.FailureCodes;
import chat.protocol.bus.ServiceFailure;
import chat.protocol.bus.gateway.Broadcast;
import chat.protocol.bus.gateway.Deliver;
import chat.protocol.bus.gateway.Kick;
import chat.protocol.bus.gateway.OfflineCheck;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's side of the event bus: messages for users connected here, kicks of sessions
 * held here, and broadcasts. Bodies are read as the records of {@code chat.protocol.bus.gateway};
 * one that does not fit is refused with INVALID_INPUT (a broadcast, which has no reply, is
 * logged and dropped).
 */
public final class NodeBusVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(NodeBusVerticle.class);

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
        bus.<JsonObject>consumer(Addresses.gatewayDeliver(nodeId), this::onDeliver).completion(),
        bus.<JsonObject>consumer(Addresses.gatewayKick(nodeId), this::onKick).completion(),
        bus.<JsonObject>consumer(Addresses.gatewayOfflineCheck(nodeId), this::onOfflineCheck)
            .completion(),
        bus.<JsonObject>consumer(Addresses.GATEWAY_BROADCAST, this::onBroadcast).completion()));
  }

  /** The record a request holds; null once the request is refused with INVALID_INPUT. */
  private static <T> T read(Message<?> msg, Class<T> type) {
    return read(msg, body -> BusJson.fromJson(body, type));
  }

  private static <T> T read(Message<?> msg, Function<JsonObject, T> reader) {
    try {
      return reader.apply(body(msg));
    } catch (ServiceFailure e) {
      LOG.warn("request on {} refused: {}", msg.address(), e.getMessage());
      msg.fail(e.code(), e.getMessage());
      return null;
    }
  }

  private static JsonObject body(Message<?> msg) {
    if (msg.body() instanceof JsonObject json) {
      return json;
    }
    throw new ServiceFailure(FailureCodes.INVALID_INPUT, "the body is not a JSON object");
  }

  /**
   * {userId, payload, sessionId?, deadline?}: to that one session (a chat), or to every
   * session of the user here. A delivery past its deadline is refused: its sender has given
   * up on it and stores it, so writing it too would deliver it twice.
   */
  private void onDeliver(Message<JsonObject> msg) {
    // the hot path: read by the record's own hand-written reader
    Deliver request = read(msg, Deliver::fromJson);
    if (request == null) {
      return;
    }
    if (request.lateAt(System.currentTimeMillis())) {
      msg.fail(FailureCodes.NO_SESSION, "delivery arrived after its deadline");
      return;
    }
    Future<Integer> delivered;
    if (request.sessionId() == null) {
      delivered = registry.deliver(request.userId(), request.payload());
    } else {
      // Each session checks on its own event loop whether it is the one named.
      List<Future<Boolean>> tries = new ArrayList<>();
      for (Session session : registry.sessionsOf(request.userId())) {
        tries.add(session.deliver(request.sessionId(), request.payload()));
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
            msg.reply(new Deliver.Reply(count).toJson());
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
    OfflineCheck request = read(msg, OfflineCheck.class);
    if (request == null) {
      return;
    }
    String sessionId = request.sessionId();
    List<Session> sessions = registry.sessionsOf(request.userId()).stream()
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
        msg.reply(BusJson.toJson(new OfflineCheck.Reply()));
      } else {
        msg.fail(FailureCodes.NO_SESSION, String.valueOf(ar.cause().getMessage()));
      }
    });
  }

  private void onKick(Message<JsonObject> msg) {
    Kick request = read(msg, Kick.class);
    if (request == null) {
      return;
    }
    registry.kick(request.userId(), request.sessionId())
        .onComplete(ar -> msg.reply(BusJson.toJson(new Kick.Reply())));
  }

  /** Published: nobody waits for an answer, so a body that does not fit is only logged. */
  private void onBroadcast(Message<JsonObject> msg) {
    try {
      registry.broadcast(BusJson.fromJson(body(msg), Broadcast.class).payload());
    } catch (ServiceFailure e) {
      LOG.warn("broadcast dropped: {}", e.getMessage());
    }
  }
}
