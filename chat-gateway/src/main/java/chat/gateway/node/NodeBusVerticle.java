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
import chat.protocol.bus.gateway.DeliverBatch;
import chat.protocol.bus.gateway.Kick;
import chat.protocol.bus.gateway.OfflineCheck;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
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
        bus.<Object>consumer(Addresses.gatewayDeliverBatch(nodeId), this::onDeliverBatch)
            .completion(),
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
      // one session at most has the id named
      delivered = registry.deliverTo(request.userId(), request.sessionId(), request.payload(),
          Long.MAX_VALUE).map(took -> took ? 1 : 0);
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
   * {deadline, items} → {taken}: each item handed to its session, in order (each session takes
   * what it is handed in order), and one reply once every item is answered. A session takes
   * nothing after the deadline; an item still not answered a little after it (its session
   * refused it and is storing the chats it took before, or had not run by then) is answered
   * not taken, so that the sender, which stores what is not taken once its own timeout passes
   * (later still), has its answer for the items that were taken. A batch that arrives after
   * its deadline is answered none taken. The body is the batch's layout (answered in kind) or,
   * from a node of an earlier version, its JSON (answered with JSON).
   */
  private void onDeliverBatch(Message<Object> msg) {
    boolean json = !(msg.body() instanceof Buffer);
    DeliverBatch batch;
    try {
      batch = json ? DeliverBatch.fromJson(body(msg))
          : DeliverBatch.fromBuffer((Buffer) msg.body());
    } catch (ServiceFailure e) {
      LOG.warn("request on {} refused: {}", msg.address(), e.getMessage());
      msg.fail(e.code(), e.getMessage());
      return;
    }
    long now = System.currentTimeMillis();
    List<DeliverBatch.Item> items = batch.items();
    BatchAnswer answer = new BatchAnswer(msg, items.size(), json);
    if (batch.lateAt(now)) {
      answer.cutOff();
      return;
    }
    for (int i = 0; i < items.size(); i++) {
      DeliverBatch.Item item = items.get(i);
      int index = i;
      Promise<Boolean> took = Promise.promise();
      took.future().onComplete(ar -> answer.set(index, Boolean.TRUE.equals(ar.result())));
      registry.deliverTo(item.userId(), item.sessionId(), item.msgid(), item.msgno(),
          item.text(), batch.deadline(), took);
    }
    if (!answer.isDone()) {
      long grace = Math.max(1, (batch.deadline() - now) / 8);
      answer.timer = vertx.setTimer(batch.deadline() - now + grace, id -> answer.cutOff());
    }
  }

  /** The answers to one batch, from the sessions' event loops; replied once. */
  private final class BatchAnswer {
    private final Message<Object> msg;
    private final Boolean[] taken;
    private final boolean json;
    private int open;
    private boolean replied;
    volatile long timer = -1;

    BatchAnswer(Message<Object> msg, int size, boolean json) {
      this.msg = msg;
      this.taken = new Boolean[size];
      this.json = json;
      this.open = size;
    }

    synchronized boolean isDone() {
      return replied;
    }

    void set(int index, boolean took) {
      synchronized (this) {
        if (replied || taken[index] != null) {
          return;
        }
        taken[index] = took;
        if (--open > 0) {
          return;
        }
      }
      reply();
    }

    /** Whatever is not answered by now is not taken. */
    void cutOff() {
      reply();
    }

    private void reply() {
      List<Boolean> answers = new ArrayList<>(taken.length);
      synchronized (this) {
        if (replied) {
          return;
        }
        replied = true;
        for (Boolean t : taken) {
          answers.add(Boolean.TRUE.equals(t));
        }
      }
      if (timer >= 0) {
        vertx.cancelTimer(timer);
      }
      DeliverBatch.Reply reply = new DeliverBatch.Reply(answers);
      msg.reply(json ? reply.toJson() : reply.toBuffer());
    }
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
