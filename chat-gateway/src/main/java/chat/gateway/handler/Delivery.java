package chat.gateway.handler;

import chat.gateway.GatewayMetrics;
import chat.gateway.bus.ServiceClient;
import chat.gateway.session.SessionRegistry;
import chat.protocol.bus.Addresses;
import io.vertx.core.Future;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Gets a message to users wherever they are: presence says which nodes hold their sessions,
 * each node confirms it handed the message to a socket, and a message no node confirmed is
 * stored for the user's next login. The path to an online user touches no database.
 */
public final class Delivery {

  private final EventBus bus;
  private final ServiceClient services;
  private final SessionRegistry registry;
  private final String nodeId;
  private final DeliveryOptions deliverOptions;
  /** Where each user was last reached from this node; only a hint, checked by every delivery. */
  private final Map<Integer, Set<String>> lastReached = new ConcurrentHashMap<>();
  private final boolean useLastReached;
  private static final int MAX_REMEMBERED = 100_000;

  public Delivery(EventBus bus, ServiceClient services, SessionRegistry registry, String nodeId,
                  long timeoutMs, boolean multiSession) {
    this.bus = bus;
    this.services = services;
    this.registry = registry;
    this.nodeId = nodeId;
    this.deliverOptions = new DeliveryOptions().setSendTimeout(timeoutMs);
    this.useLastReached = !multiSession;
  }

  /**
   * Delivers to one user; fails with 404 when the user does not exist. The nodes where the
   * user was last reached are tried first, without asking presence; when none of them takes
   * the message (the user moved, logged out, was kicked) the full path runs: presence, then
   * storage. Under policy multi every message asks presence, so a new device is never missed.
   */
  public Future<Void> toUser(int userId, JsonObject message) {
    Set<String> known = lastReached.get(userId);
    if (known == null || !useLastReached) {
      return toUsers(List.of(userId), message, true);
    }
    return reach(userId, known, message).compose(reached -> {
      if (reached) {
        return Future.succeededFuture();
      }
      lastReached.remove(userId, known);
      return toUsers(List.of(userId), message, true);
    });
  }

  /**
   * Delivers to each user; stores it for those not reached. With {@code strict}, a user who
   * does not exist fails the whole call (404); otherwise such a user is skipped.
   */
  public Future<Void> toUsers(Collection<Integer> userIds, JsonObject message, boolean strict) {
    JsonObject query = new JsonObject().put("ids", new JsonArray(new ArrayList<>(userIds)));
    return services.request(Addresses.PRESENCE_LOCATE, query).compose(located -> {
      JsonObject sessions = located.getJsonObject("sessions", new JsonObject());
      List<Future<Void>> each = new ArrayList<>();
      for (int userId : userIds) {
        Set<String> nodes = nodesOf(sessions.getJsonArray(String.valueOf(userId)));
        each.add(reach(userId, nodes, message).compose(reached -> {
          if (reached) {
            remember(userId, nodes);
            return Future.succeededFuture();
          }
          return store(userId, message, strict);
        }));
      }
      return Future.all(each).mapEmpty();
    });
  }

  private void remember(int userId, Set<String> nodes) {
    if (useLastReached) {
      if (lastReached.size() >= MAX_REMEMBERED) {
        lastReached.clear();
      }
      lastReached.put(userId, nodes);
    }
  }

  private Future<Boolean> reach(int userId, Set<String> nodes, JsonObject message) {
    if (nodes.isEmpty()) {
      return Future.succeededFuture(false);
    }
    List<Future<Boolean>> tries = new ArrayList<>();
    for (String node : nodes) {
      tries.add(node.equals(nodeId) ? reachHere(userId, message) : reachNode(node, userId, message));
    }
    return Future.all(tries).map(all -> {
      for (int i = 0; i < all.size(); i++) {
        if (Boolean.TRUE.equals(all.resultAt(i))) {
          return true;
        }
      }
      return false;
    });
  }

  private Future<Boolean> reachHere(int userId, JsonObject message) {
    return registry.deliver(userId, message).map(count -> count > 0);
  }

  private Future<Boolean> reachNode(String node, int userId, JsonObject message) {
    JsonObject body = new JsonObject().put("userId", userId).put("payload", message);
    return bus.request(Addresses.gatewayDeliver(node), body, deliverOptions)
        .map(reply -> true)
        .otherwise(false);
  }

  private Future<Void> store(int userId, JsonObject message, boolean strict) {
    Future<Void> stored = services.request(Addresses.USER_OFFLINE_STORE,
            new JsonObject().put("toid", userId).put("message", message))
        .<Void>mapEmpty()
        .onSuccess(v -> GatewayMetrics.current().offlineStored())
        .onSuccess(v -> checkStillOffline(userId));
    return strict ? stored : stored.otherwiseEmpty();
  }

  /**
   * A user seen offline may have logged in while the message was being stored, after the
   * login read its stored messages: if the user is online now, the nodes holding the user's
   * sessions are told to deliver what was stored.
   */
  private void checkStillOffline(int userId) {
    services.request(Addresses.PRESENCE_LOCATE, new JsonObject().put("ids", new JsonArray().add(userId)))
        .onSuccess(located -> nodesOf(located.getJsonObject("sessions", new JsonObject())
                .getJsonArray(String.valueOf(userId)))
            .forEach(node -> bus.send(Addresses.gatewayOfflineCheck(node),
                new JsonObject().put("userId", userId))));
  }

  private static Set<String> nodesOf(JsonArray refs) {
    Set<String> nodes = new LinkedHashSet<>();
    if (refs != null) {
      for (int i = 0; i < refs.size(); i++) {
        nodes.add(refs.getJsonObject(i).getString("nodeId"));
      }
    }
    return nodes;
  }
}
