package chat.gateway.handler;

import chat.gateway.bus.ServiceClient;
import chat.gateway.session.Session;
import chat.gateway.session.SessionRegistry;
import chat.protocol.bus.Addresses;
import chat.protocol.bus.BusJson;
import chat.protocol.bus.gateway.Deliver;
import chat.protocol.bus.gateway.OfflineCheck;
import chat.protocol.bus.presence.Located;
import chat.protocol.bus.presence.SessionAt;
import chat.protocol.bus.presence.UserIds;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The node-wide steps of getting a chat to users: where their sessions are (presence), a
 * delivery to one named session on its node, the store, and telling a session to deliver
 * what was stored for it. {@link ChatLanes} puts them together per sender and target. A
 * delivery to another node goes over the event bus, which keeps one sender's deliveries to one
 * node in order; a delivery to a session of this node is handed to it directly (each session
 * takes what it is handed in order), with no bus message, reply or timer. The path to an
 * online user touches no database.
 */
public final class Delivery {

  /** One session of a user, on a node. */
  public record Target(String nodeId, String sessionId) {
  }

  private final EventBus bus;
  private final ServiceClient services;
  private final MessageStore store;
  private final DeliveryOptions deliverOptions;
  private final long timeoutMs;
  private final boolean multiSession;
  private final String nodeId;
  private final SessionRegistry here;

  /**
   * @param nodeId this node's id: deliveries to it go straight to its sessions in {@code here}
   */
  public Delivery(EventBus bus, ServiceClient services, MessageStore store, long timeoutMs,
                  boolean multiSession, String nodeId, SessionRegistry here) {
    this.nodeId = nodeId;
    this.here = here;
    this.bus = bus;
    this.services = services;
    this.store = store;
    this.timeoutMs = timeoutMs;
    this.deliverOptions = new DeliveryOptions().setSendTimeout(timeoutMs);
    this.multiSession = multiSession;
  }

  public MessageStore store() {
    return store;
  }

  /** Under policy multi a user may gain a session at any time: every chat asks presence. */
  boolean multiSession() {
    return multiSession;
  }

  ServiceClient services() {
    return services;
  }

  /** The sessions of each user that is online (users offline are absent). */
  public Future<Map<Integer, List<Target>>> locate(Collection<Integer> userIds) {
    JsonObject query = BusJson.toJson(new UserIds(new ArrayList<>(userIds)));
    return services.request(Addresses.PRESENCE_LOCATE, query).map(reply -> {
      Located located = BusJson.fromJson(reply, Located.class);
      Map<Integer, List<Target>> targets = new HashMap<>();
      for (int userId : userIds) {
        List<SessionAt> sessions = located.of(userId);
        if (!sessions.isEmpty()) {
          List<Target> list = new ArrayList<>(sessions.size());
          for (SessionAt session : sessions) {
            list.add(new Target(session.nodeId(), session.sessionId()));
          }
          targets.put(userId, list);
        }
      }
      return targets;
    });
  }

  /**
   * Delivers to one session; true once that session has taken it (it then answers for it),
   * false when it is not there or did not answer in time. The receiving node drops a
   * delivery that arrives after its deadline, so one the sender gave up on (and stores) is
   * not also written.
   */
  public Future<Boolean> deliver(Target target, int userId, JsonObject message) {
    if (target.nodeId().equals(nodeId)) {
      return deliverHere(target.sessionId(), userId, message);
    }
    JsonObject body = new Deliver(userId, message, target.sessionId(),
        System.currentTimeMillis() + timeoutMs * 4 / 5).toJson();
    return bus.request(Addresses.gatewayDeliver(target.nodeId()), body, deliverOptions)
        .map(reply -> true)
        .otherwise(false);
  }

  /**
   * A delivery to a session of this node, as the node's delivery consumer would take it from
   * the bus (each session gets its own copy), answered on the caller's context.
   */
  private Future<Boolean> deliverHere(String sessionId, int userId, JsonObject message) {
    List<Session> sessions = here.sessionsOf(userId);
    if (sessions.isEmpty()) {
      return Future.succeededFuture(false);
    }
    ContextInternal caller = ContextInternal.current();
    Promise<Boolean> answered = caller != null ? caller.promise() : Promise.promise();
    List<Future<Boolean>> tries = new ArrayList<>(sessions.size());
    for (Session session : sessions) {
      tries.add(session.deliver(sessionId, message.copy()));
    }
    Future.all(tries).onComplete(all -> answered.complete(tries.stream()
        .anyMatch(t -> Boolean.TRUE.equals(t.result()))));
    return answered.future();
  }

  /**
   * Tells one session to deliver what is stored for its user and it has not had; completes
   * once those are queued for its socket (before any later live delivery from this node).
   */
  public Future<Void> deliverStored(Target target, int userId) {
    JsonObject body = BusJson.toJson(new OfflineCheck(userId, target.sessionId()));
    return bus.request(Addresses.gatewayOfflineCheck(target.nodeId()), body, deliverOptions)
        .mapEmpty();
  }

  /**
   * Hands a notice (not a chat) to the user's open sessions, wherever they are; nothing is
   * stored for a user who is not online. Completes with whether any session took it.
   */
  public Future<Boolean> toOnlineSessions(int userId, JsonObject message) {
    return locate(List.of(userId)).compose(targets -> {
      List<Future<Boolean>> each = new ArrayList<>();
      for (Target target : targets.getOrDefault(userId, List.of())) {
        each.add(deliver(target, userId, message));
      }
      return Future.all(each).map(all -> all.list().contains(Boolean.TRUE));
    });
  }
}
