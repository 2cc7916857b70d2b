package chat.gateway.handler;

import chat.gateway.bus.ServiceClient;
import chat.gateway.session.Session;
import chat.gateway.session.SessionRegistry;
import chat.protocol.bus.Addresses;
import chat.protocol.bus.BusJson;
import chat.protocol.bus.ServiceFailure;
import chat.protocol.bus.gateway.Deliver;
import chat.protocol.bus.gateway.DeliverBatch;
import chat.protocol.bus.gateway.OfflineCheck;
import chat.protocol.bus.presence.Located;
import chat.protocol.bus.presence.SessionAt;
import chat.protocol.bus.presence.UserIds;
import chat.protocol.wire.JsonText;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.netty.channel.EventLoop;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.PromiseInternal;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node-wide steps of getting a chat to users: where their sessions are (presence), a
 * delivery to one named session on its node, the store, and telling a session to deliver
 * what was stored for it. {@link ChatLanes} puts them together per sender and target. A
 * delivery to another node goes over the event bus in batches, one in flight per event loop and
 * node ({@link Outbox}), which keep one sender's deliveries to one node in order; a delivery to
 * a session of this node is handed to it directly (each session takes what it is handed in
 * order), with no bus message, reply or timer. The path to an online user touches no database.
 */
public final class Delivery {

  private static final Logger LOG = LoggerFactory.getLogger(Delivery.class);

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
  /** Per event loop (used only on it), per other node: the deliveries going there. */
  /** Chats in one delivery batch at most, and their text's characters. */
  static final int MAX_BATCH_ITEMS = 128;
  static final int MAX_BATCH_CHARS = 1 << 20;

  private final Map<EventLoop, Map<String, Outbox>> outboxes = new ConcurrentHashMap<>();

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
    return deliver(target, userId, message, null);
  }

  /**
   * As {@link #deliver(Target, int, JsonObject)}, with the message's compact JSON text when
   * the caller made it already: a session of this node writes it as it is.
   */
  public Future<Boolean> deliver(Target target, int userId, JsonObject message, String text) {
    if (target.nodeId().equals(nodeId)) {
      return deliverHere(target.sessionId(), userId, message, text);
    }
    ContextInternal caller = ContextInternal.current();
    if (caller == null || !caller.isEventLoopContext()) {
      JsonObject body = new Deliver(userId, message, target.sessionId(),
          System.currentTimeMillis() + timeoutMs * 4 / 5).toJson();
      return bus.request(Addresses.gatewayDeliver(target.nodeId()), body, deliverOptions)
          .map(reply -> true)
          .otherwise(false);
    }
    Map<String, Outbox> mine = outboxes.computeIfAbsent(caller.nettyEventLoop(),
        k -> new HashMap<>());
    Outbox outbox = mine.computeIfAbsent(target.nodeId(), node -> new Outbox(node, mine));
    PromiseInternal<Boolean> taken = caller.promise();
    outbox.add(DeliverBatch.Item.of(userId, target.sessionId(), message,
        text != null ? text : JsonText.toString(message)), taken);
    return taken.future();
  }

  /**
   * The deliveries of one event loop to one other node: one batch in flight at a time, and
   * what is handed over meanwhile goes as the next batch, in order (so a lone chat goes at
   * once, and under load one message, reply and timer serve many). The event bus keeps one
   * node's messages to another in order, and a batch goes only once the one before it is
   * answered or given up on. A batch not answered in time is not taken, item by item: the
   * receiving node writes none of it after its deadline, which comes before this timeout.
   * Used only on its event loop; it leaves its loop's map once nothing waits or is in flight
   * (so nodes gone from the cluster leave nothing behind).
   */
  private final class Outbox {
    private final String nodeId;
    private final String address;
    private final Map<String, Outbox> ofItsLoop;
    private List<DeliverBatch.Item> items = new ArrayList<>();
    private List<Promise<Boolean>> answers = new ArrayList<>();
    private boolean inFlight;

    Outbox(String nodeId, Map<String, Outbox> ofItsLoop) {
      this.nodeId = nodeId;
      this.address = Addresses.gatewayDeliverBatch(nodeId);
      this.ofItsLoop = ofItsLoop;
    }

    void add(DeliverBatch.Item item, Promise<Boolean> answer) {
      items.add(item);
      answers.add(answer);
      if (!inFlight) {
        send();
      }
    }

    /**
     * A session that did not take a chat (gone, or the batch late) is not sent the ones behind
     * it either: they are answered not taken, so that their senders store them behind it, in
     * order, rather than deliver them live ahead of it.
     */
    private void refuseWaitingFor(Set<String> sessionIds) {
      List<DeliverBatch.Item> kept = new ArrayList<>(items.size());
      List<Promise<Boolean>> keptAnswers = new ArrayList<>(items.size());
      List<Promise<Boolean>> refusedAnswers = new ArrayList<>();
      for (int i = 0; i < items.size(); i++) {
        if (sessionIds.contains(items.get(i).sessionId())) {
          refusedAnswers.add(answers.get(i));
        } else {
          kept.add(items.get(i));
          keptAnswers.add(answers.get(i));
        }
      }
      items = kept;
      answers = keptAnswers;
      refusedAnswers.forEach(answer -> answer.complete(false));
    }

    /**
     * How many of the waiting chats the next batch takes: all of them, up to
     * {@value Delivery#MAX_BATCH_ITEMS} and {@value Delivery#MAX_BATCH_CHARS} characters of the
     * chats' text (the first always), so that one bus message stays small whatever piled up
     * behind a slow node.
     */
    private int batchSize() {
      long chars = 0;
      int n = 0;
      while (n < items.size() && n < MAX_BATCH_ITEMS) {
        long text = items.get(n).text().length();
        if (n > 0 && chars + text > MAX_BATCH_CHARS) {
          break;
        }
        chars += text;
        n++;
      }
      return n;
    }

    private void send() {
      if (items.isEmpty()) {
        inFlight = false;
        ofItsLoop.remove(nodeId, this);
        return;
      }
      inFlight = true;
      int n = batchSize();
      List<DeliverBatch.Item> batch;
      List<Promise<Boolean>> waiting;
      if (n == items.size()) {
        batch = items;
        waiting = answers;
        items = new ArrayList<>();
        answers = new ArrayList<>();
      } else {
        batch = new ArrayList<>(items.subList(0, n));
        waiting = new ArrayList<>(answers.subList(0, n));
        items = new ArrayList<>(items.subList(n, items.size()));
        answers = new ArrayList<>(answers.subList(n, answers.size()));
      }
      Buffer body = new DeliverBatch(System.currentTimeMillis() + timeoutMs * 4 / 5, batch)
          .toBuffer();
      bus.request(address, body, deliverOptions).onComplete(ar -> {
        List<Boolean> taken = null;
        if (ar.succeeded()) {
          try {
            taken = DeliverBatch.Reply.fromBuffer(ar.result().body() instanceof Buffer reply
                ? reply : null, batch.size()).taken();
          } catch (ServiceFailure e) {
            LOG.warn("a delivery batch's reply from {} did not fit: {}", address, e.getMessage());
          }
        }
        Set<String> refused = null;
        for (int i = 0; i < waiting.size(); i++) {
          boolean took = taken != null && taken.get(i);
          if (!took) {
            refused = refused == null ? new HashSet<>() : refused;
            refused.add(batch.get(i).sessionId());
          }
          waiting.get(i).complete(took);
        }
        if (refused != null) {
          refuseWaitingFor(refused);
        }
        send();
      });
    }
  }

  /**
   * A delivery to a session of this node, as the node's delivery consumer would take it from
   * the bus (every session shares the message: nothing on the way to a socket changes it),
   * answered on the caller's context.
   */
  private Future<Boolean> deliverHere(String sessionId, int userId, JsonObject message,
      String text) {
    ContextInternal caller = ContextInternal.current();
    Promise<Boolean> answered = caller != null ? caller.promise() : Promise.promise();
    here.toEachSessionOf(userId,
        (session, one) -> session.deliver(sessionId, message, text, Long.MAX_VALUE, one),
        answered);
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
