package chat.gateway;

import chat.protocol.bus.Addresses;
import chat.protocol.bus.FailureCodes;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The user and presence services as the gateway sees them on the event bus, in memory, built
 * to the bus contract (accounts, presence map, message log and mailboxes), with knobs to make
 * the store fail or hang.
 */
final class FakeServices {

  record Stored(String msgno, JsonObject message) {
  }

  private final Vertx vertx;
  private final Map<Integer, String> names = new HashMap<>();
  private final Map<Integer, List<JsonObject>> online = new HashMap<>();
  /** Pending mailbox rows per user, in message order; a msgno once seen for a user stays seen. */
  private final Map<Integer, LinkedHashMap<String, JsonObject>> pending = new HashMap<>();
  private final Map<Integer, java.util.Set<String>> had = new HashMap<>();
  private final Map<Integer, List<Integer>> groups = new HashMap<>();
  private final List<JsonObject> log = new ArrayList<>();
  private final java.util.Set<String> logged = new java.util.HashSet<>();
  private int nextId = 1;

  /** Appends fail (DATABASE_UNAVAILABLE) while this is above 0, counting down. */
  final AtomicInteger failAppends = new AtomicInteger();
  /** Appends are not answered (the gateway times out) while true. */
  volatile boolean appendsHang;
  /** Appends are taken and answered this much later (a slow database). */
  volatile long appendDelayMs;
  /** Appends asked (messages), in order. */
  final AtomicInteger appendedMessages = new AtomicInteger();
  final AtomicInteger locates = new AtomicInteger();
  volatile int mailboxMax = 10_000;
  /** Requests that reached the append address. */
  final AtomicInteger appendRequests = new AtomicInteger();
  /** Messages that reached the append address, answered or not. */
  final AtomicInteger appendsSeen = new AtomicInteger();
  /** REG is refused as OVERLOADED while true. */
  volatile boolean passwordsOverloaded;
  volatile JsonObject lastHistoryQuery;

  FakeServices(Vertx vertx) {
    this.vertx = vertx;
    EventBus bus = vertx.eventBus();
    bus.<JsonObject>consumer(Addresses.USER_REGISTER, m -> answer(m, this::register));
    bus.<JsonObject>consumer(Addresses.USER_LOGIN, m -> answer(m, this::login));
    bus.<JsonObject>consumer(Addresses.USER_LOGOUT, m -> m.reply(new JsonObject()));
    bus.<JsonObject>consumer(Addresses.USER_PROFILE, m -> m.reply(new JsonObject()
        .put("friends", friendsOf(m.body().getInteger("userId"))).put("groups", new JsonArray())));
    bus.<JsonObject>consumer(Addresses.USER_GROUP_MEMBERS, m -> answer(m, this::members));
    bus.<JsonObject>consumer(Addresses.USER_MESSAGE_APPEND, this::append);
    bus.<JsonObject>consumer(Addresses.USER_OFFLINE_PAGE, m -> answer(m, this::page));
    bus.<JsonObject>consumer(Addresses.USER_OFFLINE_ACK, m -> answer(m, this::ack));
    bus.<JsonObject>consumer(Addresses.USER_HISTORY, m -> answer(m, this::history));
    bus.<JsonObject>consumer(Addresses.PRESENCE_CONNECT, this::connect);
    bus.<JsonObject>consumer(Addresses.PRESENCE_DISCONNECT, m -> answer(m, this::disconnect));
    bus.<JsonObject>consumer(Addresses.PRESENCE_LOCATE, m -> answer(m, this::locate));
    bus.<JsonObject>consumer(Addresses.PRESENCE_QUERY, m -> m.reply(new JsonObject()
        .put("states", new JsonObject())));
    bus.<JsonObject>consumer(Addresses.PRESENCE_NODE_DRAIN, m -> m.reply(new JsonObject()
        .put("users", 0)));
  }

  private interface Handler {
    JsonObject handle(JsonObject body) throws Refused;
  }

  static final class Refused extends Exception {
    final int code;

    Refused(int code, String text) {
      super(text);
      this.code = code;
    }
  }

  private void answer(Message<JsonObject> m, Handler handler) {
    try {
      JsonObject reply;
      synchronized (this) {
        reply = handler.handle(m.body());
      }
      m.reply(reply);
    } catch (Refused r) {
      m.fail(r.code, r.getMessage());
    }
  }

  // ---- accounts and groups ----

  synchronized int user(String name) {
    int id = nextId++;
    names.put(id, name);
    return id;
  }

  /** Friends of each user as the profile lists them ({id, name}). */
  private final Map<Integer, JsonArray> friends = new HashMap<>();

  synchronized void friends(int userId, int friendId) {
    friends.computeIfAbsent(userId, k -> new JsonArray())
        .add(new JsonObject().put("id", friendId).put("name", names.get(friendId)));
  }

  private synchronized JsonArray friendsOf(Integer userId) {
    return friends.getOrDefault(userId, new JsonArray()).copy();
  }

  synchronized int group(Integer... members) {
    int id = nextId++;
    groups.put(id, new ArrayList<>(List.of(members)));
    return id;
  }

  private JsonObject register(JsonObject body) throws Refused {
    if (passwordsOverloaded) {
      throw new Refused(FailureCodes.OVERLOADED, "password work at capacity");
    }
    String name = body.getString("name");
    if (names.containsValue(name)) {
      throw new Refused(FailureCodes.NAME_TAKEN, "name taken");
    }
    int id = nextId++;
    names.put(id, name);
    return new JsonObject().put("id", id);
  }

  private JsonObject login(JsonObject body) throws Refused {
    Integer id = body.getInteger("id");
    if (id == null || !names.containsKey(id)) {
      throw new Refused(FailureCodes.BAD_CREDENTIALS, "bad credentials");
    }
    return new JsonObject().put("id", id).put("name", names.get(id)).put("token", "t" + id);
  }

  private JsonObject members(JsonObject body) throws Refused {
    List<Integer> members = groups.get(body.getInteger("groupid"));
    if (members == null) {
      throw new Refused(FailureCodes.NO_SUCH_GROUP, "no such group");
    }
    if (!members.contains(body.getInteger("userId"))) {
      throw new Refused(FailureCodes.NOT_A_MEMBER, "not a member");
    }
    return new JsonObject().put("members", new JsonArray(new ArrayList<>(members)));
  }

  // ---- presence ----

  /** Puts a session of the user in the map (for a node that may not exist). */
  synchronized void online(int userId, String nodeId, String sessionId) {
    online.computeIfAbsent(userId, k -> new ArrayList<>())
        .add(new JsonObject().put("sessionId", sessionId).put("nodeId", nodeId));
  }

  synchronized void offline(int userId) {
    online.remove(userId);
  }

  synchronized boolean isOnline(int userId) {
    return online.containsKey(userId);
  }

  private void connect(Message<JsonObject> m) {
    JsonObject body = m.body();
    int userId = body.getInteger("userId");
    List<JsonObject> old;
    synchronized (this) {
      old = new ArrayList<>(online.getOrDefault(userId, List.of()));
      online.put(userId, new ArrayList<>(List.of(new JsonObject()
          .put("sessionId", body.getString("sessionId")).put("nodeId", body.getString("nodeId")))));
    }
    List<Future<?>> kicks = new ArrayList<>();
    for (JsonObject ref : old) {
      kicks.add(vertx.eventBus().request(Addresses.gatewayKick(ref.getString("nodeId")),
          new JsonObject().put("userId", userId).put("sessionId", ref.getString("sessionId"))));
    }
    Future.join(kicks).onComplete(ar -> m.reply(new JsonObject().put("replaced", new JsonArray())));
  }

  private JsonObject disconnect(JsonObject body) {
    List<JsonObject> sessions = online.get(body.getInteger("userId"));
    if (sessions != null) {
      sessions.removeIf(s -> s.getString("sessionId").equals(body.getString("sessionId")));
      if (sessions.isEmpty()) {
        online.remove(body.getInteger("userId"));
      }
    }
    return new JsonObject().put("wentOffline", true);
  }

  private JsonObject locate(JsonObject body) {
    locates.incrementAndGet();
    JsonObject sessions = new JsonObject();
    for (Object id : body.getJsonArray("ids")) {
      List<JsonObject> refs = online.get((Integer) id);
      if (refs != null) {
        sessions.put(String.valueOf(id), new JsonArray(new ArrayList<>(refs)));
      }
    }
    return new JsonObject().put("sessions", sessions);
  }

  // ---- the message store ----

  private void append(Message<JsonObject> m) {
    appendRequests.incrementAndGet();
    appendsSeen.addAndGet(m.body().getJsonArray("messages").size());
    if (appendsHang) {
      return;
    }
    if (failAppends.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
      m.fail(FailureCodes.DATABASE_UNAVAILABLE, "database unavailable");
      return;
    }
    long delayMs = appendDelayMs;
    if (delayMs > 0) {
      vertx.setTimer(delayMs, t -> appendNow(m));
    } else {
      appendNow(m);
    }
  }

  private void appendNow(Message<JsonObject> m) {
    answer(m, body -> {
      JsonArray results = new JsonArray();
      for (Object o : body.getJsonArray("messages")) {
        JsonObject item = (JsonObject) o;
        appendedMessages.incrementAndGet();
        JsonObject message = item.getJsonObject("message");
        String msgno = message.getString("msgno");
        JsonArray stored = new JsonArray();
        JsonArray full = new JsonArray();
        JsonArray missing = new JsonArray();
        for (Object t : item.getJsonArray("to", new JsonArray())) {
          if (!names.containsKey((Integer) t)) {
            missing.add(t);
          }
        }
        if (!missing.isEmpty()) {
          results.add(new JsonObject().put("stored", stored).put("full", full)
              .put("missing", missing));
          continue;
        }
        if (logged.add(msgno)) {
          log.add(message);
        }
        for (Object p : item.getJsonArray("pending", new JsonArray())) {
          int user = (Integer) p;
          java.util.Set<String> seen = had.computeIfAbsent(user, k -> new java.util.HashSet<>());
          LinkedHashMap<String, JsonObject> box = pending.computeIfAbsent(user,
              k -> new LinkedHashMap<>());
          if (!names.containsKey(user)) {
            missing.add(user);
          } else if (seen.contains(msgno)) {
            stored.add(user);
          } else if (box.size() >= mailboxMax) {
            full.add(user);
          } else {
            seen.add(msgno);
            box.put(msgno, message);
            stored.add(user);
          }
        }
        for (Object d : item.getJsonArray("delivered", new JsonArray())) {
          int user = (Integer) d;
          had.computeIfAbsent(user, k -> new java.util.HashSet<>()).add(msgno);
          pending.computeIfAbsent(user, k -> new LinkedHashMap<>()).remove(msgno);
        }
        if (item.getBoolean("refusable", false) && stored.isEmpty()
            && item.getJsonArray("delivered", new JsonArray()).isEmpty()) {
          logged.remove(msgno);
          log.removeIf(l -> msgno.equals(l.getString("msgno")));
        }
        results.add(new JsonObject().put("stored", stored).put("full", full)
            .put("missing", missing));
      }
      return new JsonObject().put("results", results);
    });
  }

  /** Stores a message for a user as another node would. */
  synchronized void store(int userId, JsonObject message) {
    String msgno = message.getString("msgno");
    had.computeIfAbsent(userId, k -> new java.util.HashSet<>()).add(msgno);
    pending.computeIfAbsent(userId, k -> new LinkedHashMap<>()).put(msgno, message);
    if (logged.add(msgno)) {
      log.add(message);
    }
  }

  /** Whether a message with this msgno is in the log. */
  /** The msg texts of the log, in log order. */
  synchronized List<String> logTexts() {
    return log.stream().map(m -> m.getString("msg")).toList();
  }

  synchronized boolean inLog(String msgno) {
    return logged.contains(msgno);
  }

  /** The user's pending messages, in order. */
  synchronized List<JsonObject> mailbox(int userId) {
    return new ArrayList<>(pending.getOrDefault(userId, new LinkedHashMap<>()).values());
  }

  private JsonObject page(JsonObject body) {
    int limit = body.getInteger("limit");
    JsonArray messages = new JsonArray();
    LinkedHashMap<String, JsonObject> box = pending.getOrDefault(body.getInteger("userId"),
        new LinkedHashMap<>());
    for (Map.Entry<String, JsonObject> e : box.entrySet()) {
      if (messages.size() == limit) {
        break;
      }
      messages.add(new JsonObject().put("msgno", e.getKey()).put("message", e.getValue()));
    }
    return new JsonObject().put("messages", messages).put("more", box.size() > limit);
  }

  private JsonObject ack(JsonObject body) {
    LinkedHashMap<String, JsonObject> box = pending.get(body.getInteger("userId"));
    int acked = 0;
    for (Object msgno : body.getJsonArray("msgnos")) {
      if (box != null && box.remove((String) msgno) != null) {
        acked++;
      }
    }
    return new JsonObject().put("acked", acked);
  }

  /** The sessions of a user in the presence map. */
  synchronized List<String> sessionsOf(int userId) {
    List<String> ids = new ArrayList<>();
    online.getOrDefault(userId, List.of()).forEach(s -> ids.add(s.getString("sessionId")));
    return ids;
  }

  private JsonObject history(JsonObject body) throws Refused {
    lastHistoryQuery = body;
    Integer groupId = body.getInteger("groupid");
    if (groupId != null && !groups.getOrDefault(groupId, List.of()).contains(body.getInteger("userId"))) {
      throw new Refused(FailureCodes.NOT_A_MEMBER, "not a member");
    }
    JsonArray messages = new JsonArray();
    log.stream().limit(body.getInteger("limit")).forEach(messages::add);
    return new JsonObject().put("messages", messages).put("more", log.size() > messages.size())
        .put("asked", body);
  }
}
