package chat.gateway.session;

import chat.gateway.CloseReason;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;

/**
 * The sessions of this node, by connection and by user: the one place the event-bus side of
 * the gateway finds a user's sockets. Thread-safe; each session does its own writing on its
 * own event loop.
 */
public final class SessionRegistry {

  private final Set<Session> sessions = ConcurrentHashMap.newKeySet();
  private final Map<Integer, Set<Session>> byUser = new ConcurrentHashMap<>();
  private volatile boolean draining;

  void add(Session session) {
    sessions.add(session);
  }

  void remove(Session session) {
    sessions.remove(session);
  }

  void addUser(Session session) {
    byUser.computeIfAbsent(session.userId(), id -> ConcurrentHashMap.newKeySet()).add(session);
  }

  void removeUser(Session session) {
    removeUser(session, session.userId());
  }

  void removeUser(Session session, int userId) {
    byUser.computeIfPresent(userId, (id, set) -> {
      set.remove(session);
      return set.isEmpty() ? null : set;
    });
  }

  /** How many connections this node holds. */
  public int connections() {
    return sessions.size();
  }

  /** How many user sessions (logged-in connections) this node holds. */
  public int userSessions() {
    int count = 0;
    for (Set<Session> set : byUser.values()) {
      count += set.size();
    }
    return count;
  }

  /** True once the node is stopping (it takes no new clients). */
  public boolean isDraining() {
    return draining;
  }

  /** How many distinct users are logged in on this node. */
  public int users() {
    return byUser.size();
  }

  /** Delivers to every session of the user here; the future holds how many accepted it. */
  public Future<Integer> deliver(int userId, JsonObject payload) {
    Set<Session> targets = byUser.get(userId);
    if (targets == null || targets.isEmpty()) {
      return Future.succeededFuture(0);
    }
    List<Future<Boolean>> accepted = new ArrayList<>();
    targets.forEach(s -> accepted.add(s.deliver(userId, payload)));
    return Future.all(accepted).map(all -> {
      int count = 0;
      for (int i = 0; i < all.size(); i++) {
        if (Boolean.TRUE.equals(all.resultAt(i))) {
          count++;
        }
      }
      return count;
    });
  }

  /**
   * Delivers to the one session of the user here named {@code sessionId}, which takes nothing
   * after {@code deadlineMs} (epoch ms); the future holds whether it took it. Each session
   * checks on its own event loop whether it is the one named.
   */
  public Future<Boolean> deliverTo(int userId, String sessionId, JsonObject payload,
      long deadlineMs) {
    Promise<Boolean> accepted = Promise.promise();
    toEachSessionOf(userId,
        (session, one) -> session.deliver(sessionId, payload, null, deadlineMs, one), accepted);
    return accepted.future();
  }

  /**
   * As {@link #deliverTo(int, String, JsonObject, long)} for a message that came from another
   * node as its text (see {@link Session#deliverText}), completing {@code accepted}.
   */
  public void deliverTo(int userId, String sessionId, int msgid, String msgno, String text,
      long deadlineMs, Promise<Boolean> accepted) {
    toEachSessionOf(userId, (session, one) ->
        session.deliverText(sessionId, msgid, msgno, text, deadlineMs, one), accepted);
  }

  /**
   * Hands a delivery to each session of the user here ({@code handOver} completes the promise
   * it is given with whether that session took it) and completes {@code accepted} with whether
   * any did: false at once when the user has no session here, and with the one session's own
   * answer when there is one.
   */
  public void toEachSessionOf(int userId, BiConsumer<Session, Promise<Boolean>> handOver,
      Promise<Boolean> accepted) {
    List<Session> targets = sessionsOf(userId);
    if (targets.isEmpty()) {
      accepted.complete(false);
      return;
    }
    if (targets.size() == 1) {
      handOver.accept(targets.get(0), accepted);
      return;
    }
    List<Future<Boolean>> tries = new ArrayList<>(targets.size());
    for (Session session : targets) {
      Promise<Boolean> one = Promise.promise();
      handOver.accept(session, one);
      tries.add(one.future());
    }
    Future.all(tries).onComplete(all -> accepted.complete(tries.stream()
        .anyMatch(t -> Boolean.TRUE.equals(t.result()))));
  }

  /** The sessions of the user on this node (a snapshot). */
  public List<Session> sessionsOf(int userId) {
    Set<Session> set = byUser.get(userId);
    return set == null ? List.of() : List.copyOf(set);
  }

  /**
   * Calls {@code action} for each user session of this node (logged in or logging in), with
   * its user id. Safe from any thread; a session whose login number was taken before the call
   * and that has not ended is seen with its current session id.
   */
  public void forEachUserSession(BiConsumer<Integer, Session> action) {
    byUser.forEach((userId, set) -> set.forEach(s -> action.accept(userId, s)));
  }

  /** Kicks one user session, if it is here; completes once its socket is closed. */
  public Future<Void> kick(int userId, String sessionId) {
    Set<Session> targets = byUser.get(userId);
    if (targets == null) {
      return Future.succeededFuture();
    }
    List<Future<Void>> kicks = new ArrayList<>();
    targets.forEach(s -> kicks.add(s.kick(sessionId)));
    return Future.join(kicks).mapEmpty();
  }

  /** Writes the payload to every logged-in session of this node. */
  public void broadcast(JsonObject payload) {
    byUser.forEach((userId, set) -> set.forEach(s -> s.deliver(userId, payload)));
  }

  /** True once the node is stopping: a connection that arrives now is closed at once. */
  boolean draining() {
    return draining;
  }

  /** Accepts connections again after {@link #closeAll} (a node that rejoined its cluster). */
  public void reopen() {
    draining = false;
  }

  /** Closes every connection, each after a last message; later ones are closed on arrival. */
  public Future<Void> closeAll(CloseReason reason, JsonObject lastMessage) {
    return closeAll(reason, lastMessage, true);
  }

  /**
   * Closes every connection without reporting the ends of their user sessions: for a node
   * the cluster declared dead, whose sessions the others have already removed.
   */
  public Future<Void> abandonAll(CloseReason reason, JsonObject lastMessage) {
    return closeAll(reason, lastMessage, false);
  }

  private Future<Void> closeAll(CloseReason reason, JsonObject lastMessage, boolean reportEnds) {
    draining = true;
    List<Future<Void>> closing = new ArrayList<>();
    sessions.forEach(s -> closing.add(s.closeFor(reason, lastMessage, reportEnds)));
    return Future.join(closing).mapEmpty();
  }
}
