package chat.presence;

import chat.presence.config.PresenceConfig;
import chat.presence.metrics.PresenceMetrics;
import chat.presence.mirror.MirrorPool;
import chat.presence.mirror.StateMirror;
import chat.presence.notify.Transitions;
import chat.presence.store.HazelcastPresenceStore;
import chat.presence.store.Outcomes.Connected;
import chat.presence.store.PresenceStore;
import chat.presence.store.SessionRef;
import chat.presence.store.UserSessions;
import chat.protocol.bus.Addresses;
import chat.protocol.bus.BusJson;
import chat.protocol.bus.FailureCodes;
import chat.protocol.bus.LocalRecords;
import chat.protocol.bus.ServiceFailure;
import chat.protocol.bus.gateway.Kick;
import chat.protocol.bus.presence.Connect;
import chat.protocol.bus.presence.Disconnect;
import chat.protocol.bus.presence.Drain;
import chat.protocol.bus.presence.Located;
import chat.protocol.bus.presence.Ping;
import chat.protocol.bus.presence.SessionAt;
import chat.protocol.bus.presence.States;
import chat.protocol.bus.presence.UserIds;
import com.hazelcast.core.HazelcastInstance;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers the gateways: sessions starting and ending, where users are, who is online.
 * Each change is one atomic step on the user's entry in the online map; a transition of the
 * user (first session in, last session out) is mirrored to the database and told to friends.
 */
public final class PresenceVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(PresenceVerticle.class);

  private final PresenceConfig config;
  private final HazelcastInstance hazelcast;
  private static final long KICK_RETRY_MS = 200;

  private PresenceStore store;
  private WorkerExecutor repairs;
  private Transitions transitions;
  private Pool pool;
  private StateMirror mirror;
  private Runnable unwatchMirror = () -> { };
  private EventBus bus;

  public PresenceVerticle(PresenceConfig config, HazelcastInstance hazelcast) {
    this.config = config;
    this.hazelcast = hazelcast;
  }

  @Override
  public Future<?> start() {
    bus = vertx.eventBus();
    // a gateway of this process hands over the records of connect, disconnect, query and
    // locate as they are, and gets the reply records back (JSON from other processes)
    LocalRecords.register(bus);
    pool = MirrorPool.create(vertx, "presence-mirror", config.dbUrl(), config.dbPoolSize());
    mirror = new StateMirror(vertx, pool);
    unwatchMirror = PresenceMetrics.current().mirror(mirror::backlog);
    repairs = vertx.createSharedWorkerExecutor(PresenceConfig.REPAIR_POOL, 2);
    store = new HazelcastPresenceStore(vertx, hazelcast, repairs, mirror::versions);
    transitions = new Transitions(vertx, store, mirror, config.requestTimeoutMs());
    return Future.all(List.of(
        bus.consumer(Addresses.PRESENCE_CONNECT, answered(this::onConnect)).completion(),
        bus.consumer(Addresses.PRESENCE_DISCONNECT, answered(this::onDisconnect)).completion(),
        bus.consumer(Addresses.PRESENCE_NODE_DRAIN, answered(this::onNodeDrain)).completion(),
        bus.consumer(Addresses.PRESENCE_LOCATE, answered(this::onLocate)).completion(),
        bus.consumer(Addresses.PRESENCE_QUERY, answered(this::onQuery)).completion(),
        bus.consumer(Addresses.PRESENCE_PING, msg -> msg.reply(BusJson.toJson(new Ping.Reply())))
            .completion()));
  }

  @Override
  public Future<?> stop() {
    if (repairs != null) {
      repairs.close();
    }
    return pool == null ? Future.succeededFuture()
        : mirror.settled(StateMirror.SETTLE_AT_STOP_MS).eventually(() -> {
          unwatchMirror.run();
          return pool.close();
        });
  }

  private void onConnect(Message<Object> msg) {
    Connect request = LocalRecords.request(msg, Connect.class,
        body -> BusJson.fromJson(body, Connect.class));
    int userId = request.userId();
    SessionRef session = new SessionRef(request.sessionId(), request.nodeId(),
        request.transport(), System.currentTimeMillis(), request.seq());
    store.connect(userId, session, request.loginPolicy())
        .compose(outcome -> afterConnect(userId, session, outcome))
        .onSuccess(reply -> LocalRecords.reply(msg, reply, BusJson::toJson))
        .onFailure(err -> fail(msg, err));
  }

  private Future<Connect.Reply> afterConnect(int userId, SessionRef session, Connected outcome) {
    if (outcome.rejected()) {
      return Future.failedFuture(new Refused(FailureCodes.ALREADY_ONLINE, "already online"));
    }
    if (outcome.aborted()) {
      // The gateway gave up on this login and already reported its end: nothing was added.
      return Future.failedFuture(new Refused(FailureCodes.INTERNAL, "login abandoned"));
    }
    if (outcome.wentOnline()) {
      transitions.transitioned(userId, true, outcome.version());
    }
    List<SessionAt> replaced = outcome.replaced().stream()
        .map(s -> new SessionAt(s.sessionId(), s.nodeId())).toList();
    return kick(userId, outcome.replaced())
        .map(v -> new Connect.Reply(replaced, outcome.version()))
        .recover(err -> {
          // An old session may still be open on a live node: this login does not complete
          // (the client gets 503 and may try again; nothing of it stays).
          // Its session leaves the map again; the old node's next digest lists the old session,
          // which the map has ended, and it is closed then.
          LOG.warn("login of user {} refused: {}", userId, err.getMessage());
          return store.disconnect(userId, session.sessionId())
              .compose(removed -> removed.wentOffline()
                  ? transitions.transitioned(userId, false, removed.version())
                  : Future.succeededFuture())
              .transform(ar -> Future.failedFuture(
                  new Refused(FailureCodes.OVERLOADED, err.getMessage())));
        });
  }

  /**
   * Asks the gateways holding the replaced sessions to send KICKED and close them. Completes
   * once each is confirmed closed, or its node is no longer a cluster member; retried within
   * the kick timeout, after which it fails (an old session might still be live).
   */
  private Future<Void> kick(int userId, List<SessionRef> replaced) {
    if (replaced.isEmpty()) {
      return Future.succeededFuture();
    }
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(config.kickTimeoutMs());
    List<Future<?>> kicks = new ArrayList<>();
    for (SessionRef old : replaced) {
      kicks.add(kickUntil(userId, old, deadline));
    }
    return Future.all(kicks).mapEmpty();
  }

  private Future<Void> kickUntil(int userId, SessionRef old, long deadlineNanos) {
    long leftMs = TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime());
    if (!isMember(old.nodeId())) {
      return Future.succeededFuture();
    }
    if (leftMs <= 0) {
      return Future.failedFuture("session " + old.sessionId() + " on node " + old.nodeId()
          + " was not confirmed closed within " + config.kickTimeoutMs() + " ms");
    }
    JsonObject request = BusJson.toJson(new Kick(userId, old.sessionId()));
    DeliveryOptions options = new DeliveryOptions().setSendTimeout(Math.max(1, leftMs));
    return bus.request(Addresses.gatewayKick(old.nodeId()), request, options)
        .<Void>mapEmpty()
        .recover(err -> {
          LOG.warn("kick of session {} of user {} on node {} not confirmed yet: {}",
              old.sessionId(), userId, old.nodeId(), err.getMessage());
          Promise<Void> retried = Promise.promise();
          vertx.setTimer(KICK_RETRY_MS, t -> kickUntil(userId, old, deadlineNanos)
              .onComplete(retried));
          return retried.future();
        });
  }

  private boolean isMember(String nodeId) {
    return hazelcast.getCluster().getMembers().stream()
        .anyMatch(m -> nodeId.equals(m.getAttribute(PresenceConfig.NODE_ATTRIBUTE)));
  }

  private void onDisconnect(Message<Object> msg) {
    Disconnect request = LocalRecords.request(msg, Disconnect.class,
        body -> BusJson.fromJson(body, Disconnect.class));
    int userId = request.userId();
    store.disconnect(userId, request.sessionId())
        .compose(removed -> {
          // Answered once the transition is done (row written, friends told), within a
          // bound: a stopping node waits for these answers before it stops its services.
          Future<Void> done = removed.wentOffline()
              ? transitions.transitioned(userId, false, removed.version())
              : Future.succeededFuture();
          return done.timeout(config.requestTimeoutMs() / 2, TimeUnit.MILLISECONDS)
              .otherwiseEmpty()
              .map(v -> new Disconnect.Reply(removed.wentOffline()));
        })
        .onSuccess(reply -> LocalRecords.reply(msg, reply, BusJson::toJson))
        .onFailure(err -> fail(msg, err));
  }

  private void onNodeDrain(Message<Object> msg) {
    // a body that does not fit is answered with INVALID_INPUT by answered(...)
    String nodeId = LocalRecords.request(msg, Drain.class,
        body -> BusJson.fromJson(body, Drain.class)).nodeId();
    // Answered once the database shows the node's users offline (or the mirror gave up
    // waiting for it), so a stopping node does not leave before its users are offline.
    store.dropNode(nodeId)
        .compose(changes -> {
          List<Future<Void>> written = new ArrayList<>();
          changes.forEach((userId, removed) -> {
            if (removed.wentOffline()) {
              written.add(transitions.transitioned(userId, false, removed.version()));
            }
          });
          LOG.info("node {} drained: {} users had sessions there", nodeId, changes.size());
          long bound = config.requestTimeoutMs() * 4 / 5;
          return Future.join(written)
              .timeout(bound, TimeUnit.MILLISECONDS)
              .onFailure(err -> LOG.warn("drain of node {}: not every transition finished"
                  + " within {} ms; the database reconciliation completes the rest", nodeId, bound))
              .otherwiseEmpty()
              .map(v -> changes.size());
        })
        .onSuccess(users -> msg.reply(BusJson.toJson(new Drain.Reply(users))))
        .onFailure(err -> fail(msg, err));
  }

  private void onLocate(Message<Object> msg) {
    store.locate(ids(msg))
        .onSuccess(located -> {
          Map<String, List<SessionAt>> sessions = new LinkedHashMap<>();
          located.forEach((id, list) -> sessions.put(String.valueOf(id), list.stream()
              .map(s -> new SessionAt(s.sessionId(), s.nodeId())).toList()));
          LocalRecords.reply(msg, new Located(sessions), BusJson::toJson);
        })
        .onFailure(err -> fail(msg, err));
  }

  private void onQuery(Message<Object> msg) {
    Set<Integer> ids = ids(msg);
    store.read(ids)
        .onSuccess(entries -> {
          Map<String, String> states = new LinkedHashMap<>();
          Map<String, Long> versions = new LinkedHashMap<>();
          ids.forEach(id -> {
            UserSessions entry = entries.get(id);
            states.put(String.valueOf(id),
                entry != null && entry.online() ? States.ONLINE : States.OFFLINE);
            versions.put(String.valueOf(id), UserSessions.visibleVersion(entry));
          });
          LocalRecords.reply(msg, new States(states, versions), BusJson::toJson);
        })
        .onFailure(err -> fail(msg, err));
  }

  private static Set<Integer> ids(Message<Object> msg) {
    return new LinkedHashSet<>(LocalRecords.request(msg, UserIds.class,
        body -> BusJson.fromJson(body, UserIds.class)).ids());
  }

  /**
   * Every request is answered at once when its handler throws instead of leaving the caller
   * to time out: a body that does not fit its record (or is no JSON object at all) with
   * INVALID_INPUT; anything else (the online map refusing an operation before it started,
   * e.g. its member shutting down) with SERVICE_UNAVAILABLE, nothing done, so the gateway
   * tells the client to come back (503 with {@code retry_after_ms}).
   */
  static Handler<Message<Object>> answered(Handler<Message<Object>> handler) {
    return msg -> {
      try {
        handler.handle(msg);
      } catch (ServiceFailure e) {
        msg.fail(e.code(), e.getMessage());
      } catch (ClassCastException e) {
        msg.fail(FailureCodes.INVALID_INPUT, "the body is not a JSON object");
      } catch (RuntimeException e) {
        LOG.warn("presence request on {} not started: {}", msg.address(), e.toString());
        msg.fail(FailureCodes.SERVICE_UNAVAILABLE, "presence unavailable: " + e.getMessage());
      }
    };
  }

  private static void fail(Message<?> msg, Throwable err) {
    if (err instanceof Refused refused) {
      msg.fail(refused.code, refused.getMessage());
    } else {
      LOG.error("presence request on {} failed", msg.address(), err);
      msg.fail(FailureCodes.INTERNAL, "presence failure: " + err.getMessage());
    }
  }

  /** A request refused for a reason the caller acts on. */
  private static final class Refused extends RuntimeException {
    private final int code;

    Refused(int code, String message) {
      super(message, null, false, false);
      this.code = code;
    }
  }
}
