package chat.gateway.session;

import chat.gateway.GatewayConfig;
import chat.gateway.GatewayMetrics;
import chat.gateway.bus.ServiceClient;
import chat.protocol.wire.ErrorCode;
import chat.protocol.wire.Fields;
import chat.protocol.wire.MsgId;
import chat.protocol.wire.ProtocolException;
import chat.protocol.wire.Replies;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection and its life: a visitor until LOGIN succeeds, then a user until
 * LOGINOUT (a visitor again) or until the connection closes. Requests are handled one at a
 * time in the order they arrived; every write goes through {@link #send}. All state is
 * touched only on the connection's event loop ({@link #context}); other threads reach a
 * session through {@link #deliver}, {@link #kick} and {@link #closeFor}.
 */
public final class Session {

  private static final Logger LOG = LoggerFactory.getLogger(Session.class);
  private static final int MAX_QUEUED_REQUESTS = 1024;

  /** Where the session is in its life. */
  public enum State { VISITOR, LOGGING_IN, USER, ENDED }

  private final String connectionId;
  private final ClientConnection connection;
  private final Context context;
  private final Vertx vertx;
  private final GatewayConfig config;
  private final SessionRegistry registry;
  private final RequestHandler handler;
  private final SessionEvents events;
  private final RateLimiter rateLimiter;

  private final ArrayDeque<JsonObject> inbox = new ArrayDeque<>();
  private boolean handling;
  private State state = State.VISITOR;
  private int userId = -1;
  private String userName;
  private String sessionId;
  private int logins;
  private Future<?> presenceRegistration = Future.succeededFuture();
  private final List<JsonObject> heldDuringLogin = new ArrayList<>();

  /** The highest offline message number this user session has been given. */
  private long offlineDeliveredUpTo;
  /** An offline check arrived while the login (or another check) was still under way. */
  private boolean offlineCheckPending;
  private boolean offlineCheckRunning;

  private long lastSeenNanos = System.nanoTime();
  private boolean heartbeat;
  private long heartbeatTimer = -1;
  private long authTimer = -1;
  private int queuedWrites;
  private long queuedBytes;
  /** Chat messages handed to the socket but not yet written, by write number. */
  private final Map<Long, JsonObject> unwrittenChats = new LinkedHashMap<>();
  private long writes;
  private CloseReason closeReason;

  public Session(String connectionId, ClientConnection connection, Context context,
                 GatewayConfig config, SessionRegistry registry, RequestHandler handler,
                 SessionEvents events) {
    this.connectionId = connectionId;
    this.connection = connection;
    this.context = context;
    this.vertx = context.owner();
    this.config = config;
    this.registry = registry;
    this.handler = handler;
    this.events = events;
    this.rateLimiter = new RateLimiter(config.rateLimitPerSecond());
  }

  // ---- called by the transport, on the event loop ----

  /** The connection is open: start the visitor's auth timer. */
  public void opened() {
    registry.add(this);
    GatewayMetrics.current().opened(connection.transport());
    startAuthTimer();
    LOG.info("connect {} {} from {}", connection.transport(), connectionId,
        connection.remoteAddress());
    if (registry.draining()) {
      closeFor(CloseReason.SERVER_CLOSING, Replies.serverClosing(config.reconnectAfterMs()));
    }
  }

  /** Any byte received is a sign of life. */
  public void sawTraffic() {
    lastSeenNanos = System.nanoTime();
  }

  /** One parsed request. */
  public void received(JsonObject request) {
    if (state == State.ENDED) {
      return;
    }
    GatewayMetrics.current().received(request);
    Object seq = Fields.seq(request);
    if (!rateLimiter.tryAcquire() || inbox.size() >= MAX_QUEUED_REQUESTS) {
      send(Replies.error(ErrorCode.RATE_LIMITED, "rate limit exceeded: message dropped",
          refOf(request), seq));
      return;
    }
    if (isPing(request)) {
      // Answered at once, ahead of queued work, so a slow request never delays liveness.
      enableHeartbeat();
      send(Replies.pong(seq));
      return;
    }
    inbox.add(request);
    if (!handling) {
      handleNext();
    }
  }

  /** Bytes that are not a JSON object (ERROR 400; the connection stays open). */
  public void malformed(String reason) {
    if (state != State.ENDED) {
      send(Replies.error(ErrorCode.BAD_REQUEST, "malformed request: " + reason, null, null));
    }
  }

  /** An object over the frame limit: ERROR 413, then the connection is closed. */
  public void tooLarge() {
    if (state == State.ENDED || closeReason != null) {
      return;
    }
    closeReason = CloseReason.TOO_LARGE;
    JsonObject error = Replies.error(ErrorCode.TOO_LARGE,
        "message larger than " + config.maxFrameBytes() + " bytes", null, null);
    connection.writeAndClose(error.encode(), (short) 1009);
  }

  /** The connection has closed, for whatever reason: ends the user session if there is one. */
  public void closed() {
    if (state == State.ENDED) {
      return;
    }
    CloseReason reason = closeReason == null ? CloseReason.CLIENT_CLOSED : closeReason;
    keepUndelivered();
    endUserSession(reason.name().toLowerCase(java.util.Locale.ROOT));
    state = State.ENDED;
    cancelTimers();
    inbox.clear();
    registry.remove(this);
    GatewayMetrics.current().closed(connection.transport(), reason);
    LOG.info("disconnect {} {} user {} reason {}", connection.transport(), connectionId,
        userId < 0 ? "-" : userId, reason);
  }

  // ---- the life of a user session, for the request handlers ----

  public State state() {
    return state;
  }

  public int userId() {
    return userId;
  }

  public String userName() {
    return userName;
  }

  /** The id of the current user session (one per successful login of this connection). */
  public String sessionId() {
    return sessionId;
  }

  public String transport() {
    return connection.transport();
  }

  public Context context() {
    return context;
  }

  /**
   * Credentials are good: the session becomes the user's, holding deliveries until the
   * LOGIN ack is written. Returns the new user session id.
   */
  public String beginLogin(int userId, String userName) {
    if (state != State.VISITOR) {
      throw new ProtocolException(ErrorCode.CONFLICT, "already logged in");
    }
    this.state = State.LOGGING_IN;
    this.userId = userId;
    this.userName = userName;
    this.sessionId = connectionId + "." + (++logins);
    this.offlineDeliveredUpTo = 0;
    this.offlineCheckPending = false;
    registry.addUser(this);
    return sessionId;
  }

  /**
   * The presence registration of this user session; when the connection closes, the end of
   * the session is reported once it has completed (and only if it succeeded).
   */
  public void registering(Future<?> registration) {
    this.presenceRegistration = registration;
  }

  /** The login did not complete: back to visitor. */
  public void abortLogin() {
    if (state == State.LOGGING_IN) {
      endUserSession("login_failed");
      state = State.VISITOR;
    }
  }

  /**
   * Writes the LOGIN ack, then the deliveries held meanwhile; from now on the session is a
   * user. The future completes when the ack is written.
   */
  public Future<Void> completeLogin(JsonObject ack, boolean wantsHeartbeat) {
    if (state != State.LOGGING_IN) {
      return Future.failedFuture(new ProtocolException(ErrorCode.CONFLICT, "login abandoned"));
    }
    state = State.USER;
    cancelAuthTimer();
    if (wantsHeartbeat) {
      enableHeartbeat();
    }
    Future<Void> written = send(ack);
    heldDuringLogin.forEach(this::send);
    heldDuringLogin.clear();
    LOG.info("login {} user {} session {}", connectionId, userId, sessionId);
    return written;
  }

  /** LOGINOUT: the user session ends and the connection is a visitor again. */
  public void logout() {
    if (state != State.USER) {
      throw new ProtocolException(ErrorCode.NOT_LOGGED_IN, "not logged in");
    }
    endUserSession("logout");
    state = State.VISITOR;
    startAuthTimer();
  }

  public long offlineDeliveredUpTo() {
    return offlineDeliveredUpTo;
  }

  public void offlineDeliveredUpTo(long upTo) {
    offlineDeliveredUpTo = Math.max(offlineDeliveredUpTo, upTo);
  }

  /** Records an offline check that arrived during the login; true if one was pending. */
  public boolean takePendingOfflineCheck() {
    boolean pending = offlineCheckPending;
    offlineCheckPending = false;
    return pending;
  }

  /**
   * Whether stored messages may be delivered now: true for a user session; during a login the
   * check is remembered and runs once the ack is written.
   */
  public boolean readyForOfflineCheck() {
    if (state == State.LOGGING_IN || offlineCheckRunning) {
      offlineCheckPending = true;
      return false;
    }
    return state == State.USER && closeReason == null;
  }

  /** Marks an offline check as running (true) or done (false). */
  public void offlineCheckRunning(boolean running) {
    offlineCheckRunning = running;
  }

  // ---- from any thread ----

  /**
   * Delivers a message to this session if it belongs to the user now; the future tells
   * whether it was accepted for writing.
   */
  public Future<Boolean> deliver(int forUser, JsonObject payload) {
    Promise<Boolean> accepted = Promise.promise();
    context.runOnContext(v -> {
      if (userId != forUser || closeReason != null) {
        accepted.complete(false);
      } else if (state == State.LOGGING_IN) {
        heldDuringLogin.add(payload);
        accepted.complete(true);
      } else if (state == State.USER) {
        send(payload);
        accepted.complete(true);
      } else {
        accepted.complete(false);
      }
    });
    return accepted.future();
  }

  /** Another login took over this user session: KICKED, then the connection closes. */
  public Future<Void> kick(String kickedSessionId) {
    Promise<Void> done = Promise.promise();
    context.runOnContext(v -> {
      if (!kickedSessionId.equals(sessionId) || state == State.ENDED
          || (state != State.USER && state != State.LOGGING_IN)) {
        done.complete();
        return;
      }
      // The presence map no longer holds this session: its end is not reported again.
      presenceRegistration = Future.failedFuture("replaced");
      closeReason = CloseReason.KICKED;
      connection.writeAndClose(Replies.kicked().encode(), (short) 1000)
          .onComplete(ar -> done.complete());
    });
    return done.future();
  }

  /** Writes a last message (if any) and closes the connection. */
  public Future<Void> closeFor(CloseReason reason, JsonObject lastMessage) {
    return closeFor(reason, lastMessage, true);
  }

  /**
   * Writes a last message (if any) and closes the connection. Without {@code reportEnd}, the
   * end of the user session is not reported to presence: used when this node's view of the
   * cluster is stale and the cluster has already removed its sessions.
   */
  public Future<Void> closeFor(CloseReason reason, JsonObject lastMessage, boolean reportEnd) {
    Promise<Void> done = Promise.promise();
    context.runOnContext(v -> {
      if (state == State.ENDED) {
        done.complete();
        return;
      }
      if (!reportEnd) {
        presenceRegistration = Future.failedFuture("abandoned");
      }
      if (closeReason == null) {
        closeReason = reason;
      }
      Future<Void> closing = lastMessage == null
          ? connection.close()
          : connection.writeAndClose(lastMessage.encode(), (short) 1001);
      closing.onComplete(ar -> done.complete());
    });
    return done.future();
  }

  // ---- writing ----

  /**
   * Writes one message. A client that lets too much pile up unread is disconnected as a slow
   * consumer; a failed write closes the connection.
   */
  public Future<Void> send(JsonObject message) {
    if (state == State.ENDED || closeReason != null) {
      return Future.failedFuture("connection closing");
    }
    GatewayMetrics.current().sent(message);
    String text = message.encode();
    long writeNumber = ++writes;
    boolean chat = isChat(message);
    if (chat) {
      unwrittenChats.put(writeNumber, message);
    }
    // Judged on what is already waiting, so one large message (a login ack with a long
    // offline backlog) still goes out to a client that reads.
    boolean overLimit = queuedWrites >= config.outboundMaxMessages()
        || queuedBytes >= config.outboundMaxBytes();
    queuedWrites++;
    queuedBytes += text.length();
    if (overLimit) {
      LOG.warn("session {} user {} is not reading: {} messages, {} bytes queued", connectionId,
          userId, queuedWrites, queuedBytes);
      closeReason = CloseReason.SLOW_CONSUMER;
      connection.close();
      return Future.failedFuture("slow consumer");
    }
    return connection.write(text).andThen(ar -> {
      queuedWrites--;
      queuedBytes -= text.length();
      if (chat && ar.succeeded()) {
        unwrittenChats.remove(writeNumber);
      }
      if (ar.failed() && closeReason == null) {
        closeReason = CloseReason.WRITE_FAILED;
        connection.close();
      }
    });
  }

  // ---- internals ----

  private void handleNext() {
    JsonObject request = inbox.poll();
    if (request == null || state == State.ENDED) {
      handling = false;
      return;
    }
    handling = true;
    Future<Void> handled;
    try {
      handled = handler.handle(this, request);
    } catch (RuntimeException e) {
      handled = Future.failedFuture(e);
    }
    handled.onComplete(ar -> {
      if (ar.failed()) {
        replyFailure(request, ar.cause());
      }
      handleNext();
    });
  }

  private void replyFailure(JsonObject request, Throwable err) {
    if (state == State.ENDED || closeReason != null) {
      return; // the connection is gone: nobody to tell
    }
    ProtocolException error = ServiceClient.toClient(err);
    if (error.errno() == ErrorCode.INTERNAL) {
      LOG.error("request {} of session {} failed", refOf(request), connectionId, err);
    }
    send(Replies.error(error.errno(), error.getMessage(), refOf(request), Fields.seq(request)));
  }

  /** Chat messages for this user that will never be written are stored for the next login. */
  private void keepUndelivered() {
    if (userId < 0 || (unwrittenChats.isEmpty() && heldDuringLogin.isEmpty())) {
      return;
    }
    List<JsonObject> undelivered = new ArrayList<>(unwrittenChats.values());
    heldDuringLogin.stream().filter(Session::isChat).forEach(undelivered::add);
    unwrittenChats.clear();
    heldDuringLogin.clear();
    if (!undelivered.isEmpty()) {
      events.undelivered(userId, undelivered);
    }
  }

  private static boolean isChat(JsonObject message) {
    Object msgid = message.getValue("msgid");
    return Integer.valueOf(MsgId.ONE_CHAT).equals(msgid)
        || Integer.valueOf(MsgId.GROUP_CHAT).equals(msgid);
  }

  private void endUserSession(String why) {
    if (state != State.USER && state != State.LOGGING_IN) {
      return;
    }
    registry.removeUser(this);
    heldDuringLogin.clear();
    int endedUser = userId;
    String endedSession = sessionId;
    presenceRegistration.onSuccess(v -> events.userSessionEnded(endedUser, endedSession, why));
    presenceRegistration = Future.succeededFuture();
  }

  private void enableHeartbeat() {
    if (heartbeat) {
      return;
    }
    heartbeat = true;
    long timeoutNanos = config.heartbeatTimeoutSeconds() * 1_000_000_000L;
    long checkEveryMs = Math.max(250, config.heartbeatTimeoutSeconds() * 100L);
    heartbeatTimer = vertx.setPeriodic(checkEveryMs, t -> {
      if (System.nanoTime() - lastSeenNanos > timeoutNanos) {
        LOG.info("session {} user {} silent for {} s", connectionId, userId,
            config.heartbeatTimeoutSeconds());
        closeFor(CloseReason.HEARTBEAT_TIMEOUT, null);
      }
    });
  }

  private void startAuthTimer() {
    cancelAuthTimer();
    authTimer = vertx.setTimer(config.authTimeoutSeconds() * 1000L, t -> {
      authTimer = -1;
      if (state == State.VISITOR) {
        closeFor(CloseReason.AUTH_TIMEOUT, null);
      }
    });
  }

  private void cancelAuthTimer() {
    if (authTimer >= 0) {
      vertx.cancelTimer(authTimer);
      authTimer = -1;
    }
  }

  private void cancelTimers() {
    cancelAuthTimer();
    if (heartbeatTimer >= 0) {
      vertx.cancelTimer(heartbeatTimer);
      heartbeatTimer = -1;
    }
  }

  private static boolean isPing(JsonObject request) {
    return Integer.valueOf(MsgId.PING).equals(request.getValue("msgid"));
  }

  private static Integer refOf(JsonObject request) {
    try {
      return Fields.msgid(request);
    } catch (ProtocolException e) {
      return null;
    }
  }
}
