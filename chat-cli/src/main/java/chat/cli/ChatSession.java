package chat.cli;

import chat.protocol.wire.MsgId;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The client side of one user's session: connects, registers, logs in, sends, and keeps what
 * the user needs to see (friends with names and presence by version, groups). When the
 * connection drops while logged in, it reconnects by itself and logs in again with the
 * token: after the server's {@code reconnect_after_ms} (SERVER_CLOSING) or a jittered
 * exponential backoff. Offline messages come by acknowledged delivery, dropped once seen.
 */
final class ChatSession implements Connection.Listener, AutoCloseable {

  /** What the session shows; called from the reader and timer threads. */
  interface Events {
    void chat(JsonObject message, boolean offline);

    void presence(Person person);

    void friend(Person person);

    void notice(String text);

    void error(String text);
  }

  /** A person the user knows: name (when known), state and the version of that state. */
  static final class Person {
    final int id;
    volatile String name;
    volatile String state = "offline";
    volatile Long version;

    Person(int id) {
      this.id = id;
    }

    String label() {
      return (name == null ? "user" : name) + " (" + id + ")";
    }
  }

  record Group(int id, String name, String desc) {
  }

  private static final long FIRST_BACKOFF_MS = 500;
  private static final long MAX_BACKOFF_MS = 30_000;
  private static final int SEEN_MSGNOS = 10_000;

  private final String host;
  private final int port;
  private final Duration timeout;
  private final Events events;
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "chat-cli-timer");
    t.setDaemon(true);
    return t;
  });
  private final Map<Integer, Person> people = new ConcurrentHashMap<>();
  private final Set<Integer> friends = ConcurrentHashMap.newKeySet();
  private final Map<Integer, Group> groups = new ConcurrentHashMap<>();
  private final Set<String> seen = Collections.synchronizedSet(new LinkedHashSet<>());

  private volatile Connection connection;
  private volatile Integer userId;
  private volatile String userName;
  private volatile String token;
  private volatile boolean closing;
  private volatile Long reconnectAfterMs;
  private volatile long backoffMs = FIRST_BACKOFF_MS;
  private volatile ScheduledFuture<?> heartbeat;
  private volatile ScheduledFuture<?> reconnect;

  ChatSession(String host, int port, Duration timeout, Events events) {
    this.host = host;
    this.port = port;
    this.timeout = timeout;
    this.events = events;
  }

  // ---------------------------------------------------------------- connection

  /** Opens the connection if none is open. */
  synchronized void connect() throws IOException {
    if (connection == null || !connection.isOpen()) {
      connection = Connection.open(host, port, this, timeout);
    }
  }

  private Connection connection() throws IOException {
    connect();
    return connection;
  }

  @Override
  public void onClosed(Connection closed, String reason) {
    if (closed != connection) {
      return;
    }
    stopHeartbeat();
    if (closing || userId == null || token == null) {
      if (!closing) {
        events.notice("connection closed (" + reason + ")");
      }
      return;
    }
    scheduleReconnect("connection lost");
  }

  private void scheduleReconnect(String why) {
    long delay;
    Long asked = reconnectAfterMs;
    if (asked != null) {
      delay = asked + ThreadLocalRandom.current().nextLong(Math.min(Math.max(asked / 2, 500), 5000) + 1);
      reconnectAfterMs = null;
    } else {
      long base = backoffMs;
      delay = base / 2 + ThreadLocalRandom.current().nextLong(base / 2 + 1);
      backoffMs = Math.min(base * 2, MAX_BACKOFF_MS);
    }
    events.notice(why + "; reconnecting in " + Math.max(1, Math.round(delay / 1000.0)) + " s");
    reconnect = timer.schedule(this::resume, delay, TimeUnit.MILLISECONDS);
  }

  private void resume() {
    if (closing || userId == null) {
      return;
    }
    try {
      synchronized (this) {
        connection = Connection.open(host, port, this, timeout);
      }
      JsonObject ack = await(connection.request(loginRequest().put("id", userId).put("token", token)));
      if (ack.getInteger("errno", -1) != 0) {
        events.error("could not log in again: " + ack.getString("errmsg", "refused")
            + "; log in with your password");
        forget();
        return;
      }
      entered(ack);
      events.notice("reconnected as " + userName + " (" + userId + ")");
    } catch (IOException | RuntimeException e) {
      if (!closing && userId != null) {
        scheduleReconnect("still no connection (" + reasonOf(e) + ")");
      }
    }
  }

  // ---------------------------------------------------------------- requests

  int register(String name, String password) throws IOException {
    JsonObject ack = await(connection().request(new JsonObject()
        .put("msgid", MsgId.REG).put("name", name).put("password", password)));
    if (ack.getInteger("errno", -1) != 0) {
      throw new Connection.Refused(ack.getInteger("errno", -1),
          "registration refused: " + ack.getString("errmsg", "name taken or invalid"));
    }
    return ack.getInteger("id");
  }

  /** Logs in by id (digits) or name; returns the LOGIN ack. */
  JsonObject login(String who, String password) throws IOException {
    JsonObject request = loginRequest().put("password", password);
    if (who.matches("\\d{1,9}")) {
      request.put("id", Integer.parseInt(who));
    } else {
      request.put("name", who);
    }
    JsonObject ack = await(connection().request(request));
    if (ack.getInteger("errno", -1) != 0) {
      throw new Connection.Refused(ack.getInteger("errno", -1), "login refused: "
          + ack.getString("errmsg", ack.getInteger("errno", -1) == 2 ? "already online" : "wrong id or password"));
    }
    backoffMs = FIRST_BACKOFF_MS;
    entered(ack);
    return ack;
  }

  private static JsonObject loginRequest() {
    return new JsonObject().put("msgid", MsgId.LOGIN).put("format", "structured").put("offline", "ack");
  }

  private void entered(JsonObject ack) {
    userId = ack.getInteger("id");
    userName = ack.getString("name");
    token = ack.getString("token");
    backoffMs = FIRST_BACKOFF_MS;
    friends.clear();
    for (JsonObject f : objects(ack.getJsonArray("friends"))) {
      Person p = person(f.getInteger("id"), f.getString("name"));
      friends.add(p.id);
      applyPresence(p, f.getString("state"), f.getValue("v"));
    }
    groups.clear();
    for (JsonObject g : objects(ack.getJsonArray("groups"))) {
      groups.put(g.getInteger("id"), new Group(g.getInteger("id"), g.getString("groupname"),
          g.getString("groupdesc", "")));
      for (JsonObject u : objects(g.getJsonArray("users"))) {
        applyPresence(person(u.getInteger("id"), u.getString("name")), u.getString("state"), u.getValue("v"));
      }
    }
    startHeartbeat(ack.getJsonObject("heartbeat", new JsonObject()));
    takeOffline(ack);
  }

  /** Shows each page of stored messages, then acknowledges it (OFFLINE_ACK) for the next. */
  private void takeOffline(JsonObject ack) {
    boolean acknowledged = ack.containsKey("offline_more");
    JsonArray page = ack.getJsonArray("offlinemsg", new JsonArray());
    Connection current = connection;
    timer.execute(() -> {
      JsonArray next = page;
      while (true) {
        String last = null;
        for (JsonObject message : objects(next)) {
          if (firstTime(message)) {
            events.chat(message, true);
          }
          if (message.getValue("msgno") instanceof String msgno) {
            last = msgno;
          }
        }
        if (!acknowledged || last == null) {
          return;
        }
        try {
          JsonObject reply = await(current.request(new JsonObject()
              .put("msgid", MsgId.OFFLINE_ACK).put("upto", last)));
          next = reply.getJsonArray("offlinemsg", new JsonArray());
          if (next.isEmpty()) {
            return;
          }
        } catch (RuntimeException e) {
          return; // not acknowledged: they come again at the next login
        }
      }
    });
  }

  void chat(int toId, String text) throws IOException {
    requireUser();
    await(connection().request(new JsonObject().put("msgid", MsgId.ONE_CHAT).put("toid", toId).put("msg", text)));
  }

  void groupChat(int groupId, String text) throws IOException {
    requireUser();
    await(connection().request(new JsonObject().put("msgid", MsgId.GROUP_CHAT).put("groupid", groupId).put("msg", text)));
  }

  /** Adds a friend; returns the friend as the server described them (FRIEND), or a bare one. */
  Person addFriend(int friendId) throws IOException {
    requireUser();
    await(connection().request(new JsonObject().put("msgid", MsgId.ADD_FRIEND).put("friendid", friendId)));
    friends.add(friendId);
    return person(friendId, null);
  }

  int createGroup(String name, String desc) throws IOException {
    requireUser();
    JsonObject ack = await(connection().request(new JsonObject().put("msgid", MsgId.CREATE_GROUP)
        .put("groupname", name).put("groupdesc", desc == null ? "" : desc)));
    int id = ack.getInteger("groupid");
    groups.put(id, new Group(id, name, desc == null ? "" : desc));
    return id;
  }

  void joinGroup(int groupId) throws IOException {
    requireUser();
    await(connection().request(new JsonObject().put("msgid", MsgId.ADD_GROUP).put("groupid", groupId)));
    groups.putIfAbsent(groupId, new Group(groupId, null, ""));
  }

  /** HISTORY: the newest {@code limit} messages with a friend or of a group, oldest first. */
  List<JsonObject> history(Integer withId, Integer groupId, int limit) throws IOException {
    requireUser();
    JsonObject request = new JsonObject().put("msgid", MsgId.HISTORY).put("limit", limit);
    if (groupId != null) {
      request.put("groupid", groupId);
    } else {
      request.put("with", withId);
    }
    return objects(await(connection().request(request)).getJsonArray("messages"));
  }

  void logout() throws IOException {
    requireUser();
    Integer was = userId;
    forget();
    await(connection().request(new JsonObject().put("msgid", MsgId.LOGINOUT).put("id", was)));
  }

  private void forget() {
    userId = null;
    userName = null;
    token = null;
    friends.clear();
    groups.clear();
    stopHeartbeat();
  }

  private void requireUser() {
    if (userId == null) {
      throw new Connection.Refused(401, "log in first");
    }
  }

  // ---------------------------------------------------------------- what the server pushes

  @Override
  public void onMessage(JsonObject message) {
    Integer msgid = message.getInteger("msgid");
    if (msgid == null) {
      return;
    }
    switch (msgid) {
      case MsgId.ONE_CHAT, MsgId.GROUP_CHAT -> {
        if (message.getValue("id") instanceof Integer id && message.getValue("name") instanceof String name) {
          person(id, name);
        }
        if (firstTime(message)) {
          events.chat(message, false);
        }
      }
      case MsgId.PRESENCE -> {
        if (message.getValue("id") instanceof Integer id) {
          Person p = person(id, null);
          if (applyPresence(p, message.getString("state"), message.getValue("v"))) {
            events.presence(p);
          }
        }
      }
      case MsgId.FRIEND -> {
        if (message.getValue("id") instanceof Integer id) {
          Person p = person(id, message.getValue("name") instanceof String n ? n : null);
          friends.add(id);
          applyPresence(p, message.getString("state"), message.getValue("v"));
          events.friend(p);
        }
      }
      case MsgId.KICKED -> {
        events.error("signed out: " + message.getString("errmsg", "logged in elsewhere"));
        forget();
      }
      case MsgId.SERVER_CLOSING -> {
        Object after = message.getValue("reconnect_after_ms");
        reconnectAfterMs = after instanceof Number n ? Math.max(0, n.longValue()) : 1000L;
        events.notice("the server is restarting");
      }
      case MsgId.BROADCAST -> events.notice("announcement: " + message.getString("msg", ""));
      case MsgId.ERROR -> events.error("error " + message.getValue("errno") + ": " + message.getString("errmsg", ""));
      case MsgId.PING -> {
        try {
          connection.send(new JsonObject().put("msgid", MsgId.PONG));
        } catch (IOException ignored) {
          // the close handler deals with it
        }
      }
      default -> {
        // PONG and ids of later versions need nothing
      }
    }
  }

  /** False for a message already shown (same msgno): acknowledged delivery may repeat one. */
  private boolean firstTime(JsonObject message) {
    if (!(message.getValue("msgno") instanceof String msgno)) {
      return true;
    }
    synchronized (seen) {
      if (!seen.add(msgno)) {
        return false;
      }
      if (seen.size() > SEEN_MSGNOS) {
        seen.remove(seen.iterator().next());
      }
      return true;
    }
  }

  /** The state with the highest version wins; a versionless one only while none is known. */
  private static boolean applyPresence(Person p, String state, Object version) {
    if (!"online".equals(state) && !"offline".equals(state)) {
      return false;
    }
    synchronized (p) {
      if (version instanceof Number n) {
        if (p.version != null && n.longValue() <= p.version) {
          return false;
        }
        p.version = n.longValue();
      } else if (p.version != null) {
        return false;
      }
      boolean changed = !state.equals(p.state);
      p.state = state;
      return changed;
    }
  }

  // ---------------------------------------------------------------- heartbeat

  private void startHeartbeat(JsonObject settings) {
    stopHeartbeat();
    long interval = Math.max(1, settings.getLong("interval", 10L));
    long silentNanos = TimeUnit.SECONDS.toNanos(Math.max(interval * 2, settings.getLong("timeout", 25L)));
    Connection current = connection;
    heartbeat = timer.scheduleAtFixedRate(() -> {
      if (System.nanoTime() - current.lastHeard() > silentNanos) {
        current.close();
        onClosed(current, "the server went silent");
        return;
      }
      try {
        current.send(new JsonObject().put("msgid", MsgId.PING));
      } catch (IOException ignored) {
        // the reader sees the close
      }
    }, interval, interval, TimeUnit.SECONDS);
  }

  private void stopHeartbeat() {
    ScheduledFuture<?> running = heartbeat;
    if (running != null) {
      running.cancel(false);
    }
  }

  // ---------------------------------------------------------------- what the user sees

  Person person(int id, String name) {
    Person p = people.computeIfAbsent(id, Person::new);
    if (name != null && !name.isEmpty()) {
      p.name = name;
    }
    return p;
  }

  /** The friends, online first, then by name. */
  List<Person> friends() {
    List<Person> list = new ArrayList<>();
    friends.forEach(id -> list.add(person(id, null)));
    list.sort((a, b) -> a.state.equals(b.state)
        ? String.valueOf(a.name).compareToIgnoreCase(String.valueOf(b.name))
        : "online".equals(a.state) ? -1 : 1);
    return list;
  }

  Map<Integer, Group> groups() {
    return new LinkedHashMap<>(groups);
  }

  Integer userId() {
    return userId;
  }

  String userName() {
    return userName;
  }

  @Override
  public void close() {
    closing = true;
    ScheduledFuture<?> pendingReconnect = reconnect;
    if (pendingReconnect != null) {
      pendingReconnect.cancel(false);
    }
    stopHeartbeat();
    timer.shutdownNow();
    Connection current = connection;
    if (current != null) {
      current.close();
    }
  }

  // ---------------------------------------------------------------- helpers

  private static List<JsonObject> objects(JsonArray array) {
    List<JsonObject> list = new ArrayList<>();
    if (array == null) {
      return list;
    }
    for (Object item : array) {
      if (item instanceof JsonObject object) {
        list.add(object);
      } else if (item instanceof String text) {
        try {
          list.add(new JsonObject(text));
        } catch (RuntimeException ignored) {
          // not an object: skipped
        }
      }
    }
    return list;
  }

  /** Waits for a reply; a refusal, timeout or lost connection comes out as a RuntimeException. */
  static JsonObject await(CompletableFuture<JsonObject> reply) {
    try {
      return reply.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new Connection.Refused(0, "interrupted");
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof Connection.Refused refused) {
        throw refused;
      }
      if (cause instanceof TimeoutException) {
        throw new Connection.Refused(0, "no answer from the server");
      }
      throw new CompletionException(reasonOf(cause), cause);
    }
  }

  static String reasonOf(Throwable e) {
    Throwable cause = e;
    while (cause.getCause() != null && cause.getMessage() == null) {
      cause = cause.getCause();
    }
    return cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
  }
}
