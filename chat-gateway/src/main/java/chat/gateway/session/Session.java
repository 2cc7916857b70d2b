package chat.gateway.session;

import chat.gateway.CloseReason;
import chat.gateway.GatewayConfig;
import chat.gateway.GatewayMetrics;
import chat.gateway.bus.ServiceClient;
import chat.protocol.wire.ErrorCode;
import chat.protocol.wire.Fields;
import chat.protocol.wire.JsonText;
import chat.protocol.wire.MsgId;
import chat.protocol.wire.ProtocolException;
import chat.protocol.wire.Replies;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection and its life: a visitor until LOGIN succeeds, then a user until
 * LOGINOUT (a visitor again) or until the connection closes. Requests are taken in the order
 * they arrived, one after the other; a request may finish later (a chat is taken as soon as it
 * is queued for its recipient, and answered once delivered or stored), so a pipelining client
 * is not held to one round trip per message. Unhandled requests are bounded in bytes: above
 * the bound the socket is not read. Every write goes through {@link #send}. All state is
 * touched only on the connection's event loop ({@link #context}); other threads reach a
 * session through {@link #deliver}, {@link #kick} and {@link #closeFor}.
 */
public final class Session {

  private static final Logger LOG = LoggerFactory.getLogger(Session.class);
  /** How many recently written chat msgnos a session remembers to drop a repeated one. */
  private static final int RECENT_MSGNOS = 1024;
  /**
   * A chat the socket took counts as given only this long after its write completed. A
   * client that had already closed when the chat was written never read it: its FIN waited
   * unread while the event loop stood still (a node paused by its machine, a long GC), and
   * the delivery queued meanwhile was written first, into a dead socket. So when the client
   * closes within this time, the chats written in it are stored for its next login: always
   * after a reset or a failed write (the client left data unread), and after a clean close
   * for clients that acknowledge stored messages ({@code "offline":"ack"}), which drop a
   * message they already have by its msgno. Classic clients, which do not, are given what
   * the socket took after a clean close, as before.
   */
  static final long WRITTEN_SETTLE_MS = 100;
  /**
   * A connection being closed (last message, FIN, linger) that has not closed after this long
   * is closed at once: a client that does not read would otherwise hold it (and its user
   * online) for as long as its socket stays open.
   */
  static final long CLOSE_BOUND_MS = 3_000;

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

  // Small first arrays (3 slots, not 17): a session mostly holds no request, or one at a time.
  private final ArrayDeque<JsonObject> inbox = new ArrayDeque<>(2);
  private final ArrayDeque<Integer> inboxSizes = new ArrayDeque<>(2);
  private boolean handling;
  /** Bytes of requests received and not finished (queued, or taken and still in progress). */
  private long heldBytes;
  private boolean paused;
  private int currentBytes;
  private boolean currentKept;
  private State state = State.VISITOR;
  private int userId = -1;
  private String userName;
  private String sessionId;
  private int logins;
  private Future<?> presenceRegistration = Future.succeededFuture();
  private final List<JsonObject> heldDuringLogin = new ArrayList<>();

  /**
   * The stored messages (msgnos, in mailbox order) this user session was given and that are
   * not acknowledged yet.
   */
  private final LinkedHashSet<String> offlineGiven = new LinkedHashSet<>();
  /** The login asked for acknowledged delivery of stored messages. */
  private boolean offlineAckMode;
  /** The login asked for {@code "format":"structured"}. */
  private boolean structured;
  /** Chat msgnos written (or being written) to this session lately: a repeat is dropped. */
  private final RecentMsgnos recentMsgnos = new RecentMsgnos(RECENT_MSGNOS);
  /** Stores of chats this session will never write; later refusals wait for them. */
  private Future<Void> kept = Future.succeededFuture();
  /**
   * Completes once the last chat handed to the socket is written, or stored because it never
   * will be: a refusal waits for it, so nothing the session took before it comes after it.
   */
  private Future<Void> lastChatSettled = Future.succeededFuture();
  private long closeBoundTimer = -1;
  private Object attachment;
  private long slowCheckTimer = -1;
  /** Bytes handed to the socket whose write has not completed (the socket did not take them). */
  private long unwrittenBytes;
  /** Bytes of writes completed so far: progress of a client that reads. */
  private long completedBytes;
  private boolean peerReset;
  /** Runs once the client shows it has read its LOGIN ack (see {@link #whenLoginRead}). */
  private Runnable afterLoginRead;
  /** An offline check arrived while the login (or another check) was still under way. */
  private boolean offlineCheckPending;
  private boolean offlineCheckRunning;
  private Promise<Void> offlineCheckWaiters;

  private long lastSeenNanos = System.nanoTime();
  private boolean heartbeat;
  private long heartbeatTimer = -1;
  private long authTimer = -1;
  /**
   * Chat messages handed to the socket and not yet settled (not written, or written less than
   * {@link #WRITTEN_SETTLE_MS} ago), by write number, oldest first.
   */
  private final Map<Long, Unwritten> unwrittenChats = new LinkedHashMap<>();
  /** Chats the socket took, not yet settled: {write number, when the write completed}. */
  private final ArrayDeque<long[]> writtenUnsettled = new ArrayDeque<>(2);
  private long writtenSettleTimer = -1;
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
    // at DEBUG: the login line (or the disconnect line of a connection that never logged in)
    // names the transport and the address
    SessionLog.debug(LOG, "connect", connectionId, -1, "connect {} {} from {}",
        connection.transport(), connectionId, connection.remoteAddress());
    if (registry.draining()) {
      closeFor(CloseReason.SERVER_CLOSING, Replies.serverClosing(config.reconnectAfterMs()));
    }
  }

  /**
   * The peer reset the connection: it closed (or died) with data from the server still
   * unread, so what was written last was not read.
   */
  public void peerReset() {
    peerReset = true;
  }

  /**
   * Runs the action once the client shows it has read what was written so far: it sends its
   * next request, or closes cleanly (FIN, not a reset). Not run when the peer resets first.
   * The caller may also {@link #loginRead() run it} after a grace period.
   */
  public void whenLoginRead(Runnable action) {
    Runnable before = afterLoginRead;
    afterLoginRead = before == null ? action : () -> {
      before.run();
      action.run();
    };
  }

  /** Runs the pending {@link #whenLoginRead} action now, unless the peer reset (once). */
  public void loginRead() {
    Runnable action = afterLoginRead;
    afterLoginRead = null;
    if (action != null && !peerReset) {
      action.run();
    } else if (action != null) {
      LOG.info("session {} user {} reset with its login unread: stored messages kept",
          connectionId, userId);
    }
  }

  /** Any byte received is a sign of life. */
  public void sawTraffic() {
    lastSeenNanos = System.nanoTime();
  }

  /** One parsed request of {@code bytes} bytes on the wire. */
  public void received(JsonObject request, int bytes) {
    if (state == State.ENDED) {
      return;
    }
    GatewayMetrics.current().received(request);
    loginRead();
    Object seq = Fields.seq(request);
    if (!rateLimiter.tryAcquire()) {
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
    inboxSizes.add(bytes);
    hold(bytes);
    if (!handling) {
      handleNext();
    }
  }

  /**
   * A PING recognised from its bytes by {@link PingFrame} ({@code seqJson} its seq as JSON
   * text, empty for none): handled exactly as {@link #received} handles a parsed PING (it
   * counts toward the rate limit, turns the heartbeat on, and its PONG echoes the seq), without
   * a JSON object on either side.
   */
  public void receivedPing(String seqJson) {
    if (state == State.ENDED) {
      return;
    }
    GatewayMetrics.current().receivedPing();
    loginRead();
    if (!rateLimiter.tryAcquire()) {
      send(Replies.error(ErrorCode.RATE_LIMITED, "rate limit exceeded: message dropped",
          MsgId.PING, PingFrame.seqValue(seqJson)));
      return;
    }
    enableHeartbeat();
    if (state == State.ENDED || closeReason != null) {
      return;
    }
    GatewayMetrics.current().sentPong();
    write(Buffer.buffer(Replies.pongText(seqJson)), false, ++writes);
  }

  /** One parsed request (its size taken from its text). */
  public void received(JsonObject request) {
    received(request, request.encode().length());
  }

  /** Bytes of requests this session holds unfinished. */
  public long heldBytes() {
    return heldBytes;
  }

  /**
   * The request being handled stays held (its bytes count against the connection's bound)
   * after its handler returned: it finishes later, when the returned action runs (once).
   */
  public Runnable keepHeld() {
    currentKept = true;
    int bytes = currentBytes;
    boolean[] done = new boolean[1];
    return () -> {
      if (!done[0]) {
        done[0] = true;
        release(bytes);
      }
    };
  }

  private void hold(int bytes) {
    heldBytes += bytes;
    if (!paused && heldBytes > config.inboundMaxBytes() && state != State.ENDED) {
      paused = true;
      connection.pause();
    }
  }

  private void release(int bytes) {
    heldBytes -= bytes;
    if (paused && heldBytes <= config.inboundMaxBytes() / 2) {
      paused = false;
      if (state != State.ENDED) {
        connection.resume();
      }
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
    boundClose();
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
    if (closeReason == null) {
      closeReason = reason;
    }
    loginRead();
    boolean mayBeUnread = peerReset || reason == CloseReason.WRITE_FAILED
        || (reason == CloseReason.CLIENT_CLOSED && offlineAckMode);
    if (!mayBeUnread) {
      settleWritten(true);
    }
    keepUndelivered();
    writtenUnsettled.clear();
    endUserSession(reason.name().toLowerCase(java.util.Locale.ROOT));
    state = State.ENDED;
    cancelTimers();
    inbox.clear();
    inboxSizes.clear();
    registry.remove(this);
    handler.ended(this);
    GatewayMetrics.current().closed(connection.transport(), reason);
    if (userId < 0) {
      SessionLog.info(LOG, "disconnect", connectionId, userId,
          "disconnect {} {} user - reason {} from {}", connection.transport(), connectionId,
          reason, connection.remoteAddress());
    } else {
      SessionLog.info(LOG, "disconnect", connectionId, userId,
          "disconnect {} {} user {} reason {}", connection.transport(), connectionId, userId,
          reason);
    }
  }

  // ---- the life of a user session, for the request handlers ----

  public State state() {
    return state;
  }

  /** This connection's id, as the node's log lines name it. */
  public String connectionId() {
    return connectionId;
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

  /** The client's address, as the socket sees it (a proxy's, behind one). */
  public String remoteAddress() {
    return connection.remoteAddress();
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
    this.offlineGiven.clear();
    this.offlineAckMode = false;
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
      keepUndelivered();
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
    SessionLog.info(LOG, "login", connectionId, userId, "login {} {} from {} user {} session {}",
        connection.transport(), connectionId, connection.remoteAddress(), userId, sessionId);
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

  /** The stored messages given to this user session and not acknowledged, in order. */
  public LinkedHashSet<String> offlineGiven() {
    return offlineGiven;
  }

  public boolean offlineAckMode() {
    return offlineAckMode;
  }

  public void offlineAckMode(boolean ackMode) {
    this.offlineAckMode = ackMode;
  }

  public boolean structured() {
    return structured;
  }

  public void structured(boolean structured) {
    this.structured = structured;
  }

  /** Whether a stored message with this msgno was already written to (or given to) this session. */
  public boolean alreadyHas(String msgno) {
    return msgno != null && (recentMsgnos.contains(msgno) || offlineGiven.contains(msgno));
  }

  /**
   * Of these msgnos, those this session was given as chats it wrote (settled as written: see
   * {@link #WRITTEN_SETTLE_MS}), once each one still being written has settled. Left out: a
   * msgno the client is to acknowledge itself (given as stored, {@code "offline":"ack"}) and
   * one still held for after the login. Completes with none when the session ends first (its
   * unwritten chats are then stored again for the next login, and stored copies must stay).
   * Called on the session's event loop.
   */
  public Future<List<String>> whenGiven(List<String> msgnos) {
    Set<String> had = new LinkedHashSet<>();
    for (String msgno : msgnos) {
      if (recentMsgnos.contains(msgno) && !offlineGiven.contains(msgno)) {
        had.add(msgno);
      }
    }
    heldDuringLogin.forEach(m -> had.remove(m.getString("msgno")));
    if (had.isEmpty()) {
      return Future.succeededFuture(List.of());
    }
    List<Future<Void>> settling = new ArrayList<>();
    unwrittenChats.values().forEach(u -> {
      if (had.contains(u.msgno())) {
        settling.add(u.settled().future());
      }
    });
    return Future.join(settling).transform(ar -> Future.succeededFuture(
        state == State.USER && closeReason == null ? List.copyOf(had) : List.of()));
  }

  /** What the request handlers keep with this session (created on first use). */
  @SuppressWarnings("unchecked")
  public <T> T attachment(java.util.function.Supplier<T> create) {
    if (attachment == null) {
      attachment = create.get();
    }
    return (T) attachment;
  }

  /** Whether stored messages may be delivered now (a user session that is not closing). */
  public boolean readyForOfflineCheck() {
    return state == State.USER && closeReason == null && !offlineCheckRunning;
  }

  /**
   * An offline check that cannot run now (the login is not complete, or a check is running):
   * the future completes once the check that runs next has delivered what it found.
   */
  public Future<Void> awaitOfflineCheck() {
    offlineCheckPending = true;
    if (offlineCheckWaiters == null) {
      offlineCheckWaiters = Promise.promise();
    }
    return offlineCheckWaiters.future();
  }

  /** The waiters of the next offline check, if one is pending (null otherwise). */
  public Promise<Void> takePendingOfflineCheck() {
    Promise<Void> waiters = offlineCheckPending ? offlineCheckWaiters : null;
    offlineCheckPending = false;
    offlineCheckWaiters = null;
    return waiters;
  }

  public boolean offlineCheckRunning() {
    return offlineCheckRunning;
  }

  /** Marks an offline check as running (true) or done (false). */
  public void offlineCheckRunning(boolean running) {
    offlineCheckRunning = running;
  }

  private void failOfflineCheckWaiters() {
    Promise<Void> waiters = offlineCheckWaiters;
    offlineCheckWaiters = null;
    offlineCheckPending = false;
    if (waiters != null) {
      waiters.tryFail("session ended");
    }
  }

  // ---- from any thread ----

  /**
   * Delivers a message to this session if it belongs to the user now; the future tells
   * whether it was accepted for writing. Used for broadcasts.
   */
  public Future<Boolean> deliver(int forUser, JsonObject payload) {
    Promise<Boolean> accepted = Promise.promise();
    context.runOnContext(v -> accepted.complete(userId == forUser && accept(payload)));
    return accepted.future();
  }

  /**
   * Delivers a chat to this user session only (named by its id). Accepted (true) once it is
   * queued for the socket, or held until the LOGIN ack is written: from then on the session
   * answers for it (written, or stored for the next login if the connection ends first). A
   * msgno this session already had is dropped and counts as delivered. Refused (false) when
   * the session is not that one any more; a refusal comes only after the chats this session
   * will never write are stored, so a sender that stores what was refused keeps its order.
   */
  public Future<Boolean> deliver(String toSession, JsonObject payload) {
    return deliver(toSession, payload, Long.MAX_VALUE);
  }

  /**
   * As {@link #deliver(String, JsonObject)}, refused also when this session would take it
   * after {@code deadlineMs} (epoch ms): its sender stores what is not answered as taken by
   * then, so a chat taken later would be delivered twice.
   */
  public Future<Boolean> deliver(String toSession, JsonObject payload, long deadlineMs) {
    Promise<Boolean> accepted = Promise.promise();
    deliver(toSession, payload, null, deadlineMs, accepted);
    return accepted.future();
  }

  /**
   * As {@link #deliver(String, JsonObject, long)}, with the payload's compact JSON text when
   * the caller made it already (written as it is), completing {@code accepted}. The payload
   * is not changed here (it may be shared with other sessions and the message log).
   */
  public void deliver(String toSession, JsonObject payload, String text, long deadlineMs,
      Promise<Boolean> accepted) {
    context.runOnContext(v -> {
      if (takes(toSession, deadlineMs)) {
        accepted.complete(accept(payload, text));
      } else {
        refuseAfterEarlierChats(accepted);
      }
    });
  }

  /**
   * As {@link #deliver(String, JsonObject, String, long, Promise)} for a message that came from
   * another node as its text, with its {@code msgid} and, for a chat, its {@code msgno}: a chat
   * is written as it is, and read only if this session must store it; any other message is read
   * first.
   */
  public void deliverText(String toSession, int msgid, String msgno, String text,
      long deadlineMs, Promise<Boolean> accepted) {
    context.runOnContext(v -> {
      if (!takes(toSession, deadlineMs)) {
        refuseAfterEarlierChats(accepted);
      } else if (msgno == null) {
        accepted.complete(accept(JsonText.parseObject(text), text));
      } else {
        accepted.complete(acceptChat(msgid, msgno, text));
      }
    });
  }

  /** Whether this is the user session named and would take a delivery now. */
  private boolean takes(String toSession, long deadlineMs) {
    return toSession.equals(sessionId) && closeReason == null
        && System.currentTimeMillis() <= deadlineMs
        && (state == State.USER || state == State.LOGGING_IN);
  }

  /**
   * A delivery this session will not take is refused only once every chat it took before is
   * written or stored: the sender then stores the refused chat behind them. At the cut of a
   * slow consumer the refusal waits for the transport to report the close (the writes the
   * socket did not take fail by then) and for their store.
   */
  private void refuseAfterEarlierChats(Promise<Boolean> refused) {
    lastChatSettled.eventually(() -> kept).onComplete(ar -> refused.complete(false));
  }

  private boolean accept(JsonObject payload) {
    return accept(payload, null);
  }

  private boolean accept(JsonObject payload, String text) {
    boolean chat = isChat(payload);
    return accept(chat ? payload.getString("msgno") : null, () -> payload,
        () -> send(payload, chat, text));
  }

  /** As {@link #accept(JsonObject, String)} for a chat known by its text and numbers. */
  private boolean acceptChat(int msgid, String msgno, String text) {
    return accept(msgno, () -> JsonText.parseObject(text),
        () -> sendChatText(msgid, msgno, text));
  }

  /**
   * Takes a delivery (a chat when {@code msgno} is given): a chat this session already had
   * counts as taken; while logging in, the message is held for after the LOGIN ack; logged in,
   * it is written. Refused once the session is closing or no user session.
   */
  private boolean accept(String msgno, Supplier<JsonObject> message, Runnable write) {
    if (closeReason != null) {
      return false;
    }
    if (msgno != null && alreadyHas(msgno)) {
      return true;
    }
    if (state == State.LOGGING_IN) {
      heldDuringLogin.add(message.get());
      remember(msgno);
      return true;
    }
    if (state == State.USER) {
      write.run();
      return true;
    }
    return false;
  }

  private void remember(String msgno) {
    if (msgno != null) {
      recentMsgnos.add(msgno);
    }
  }

  /**
   * Another login took over this user session: KICKED, then the connection closes. Confirmed
   * once KICKED is written (every chat before it then is), or, for a client that does not
   * read it within the slow-consumer grace (cut off then), once the chats it was not given
   * are stored: the new login finds them among its stored messages.
   */
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
      boundClose();
      Future<Void> written = connection.writeAndClose(Replies.kicked().encode(), (short) 1000);
      cutIfNotDoneInGrace(written);
      written.transform(ar -> lastChatSettled.eventually(() -> kept))
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
      boundClose();
      Future<Void> closing = lastMessage == null
          ? connection.close()
          : connection.writeAndClose(lastMessage.encode(), (short) 1001);
      cutIfNotDoneInGrace(closing);
      closing.onComplete(ar -> done.complete());
    });
    return done.future();
  }

  // ---- writing ----

  /**
   * Writes one message. A client is cut off as a slow consumer only when the output the
   * socket would not take (writes handed over and not completed: what waits in the process,
   * not in kernel buffers) stays above the bound for the grace period, or grows far beyond
   * it: what one event-loop turn queues before its flush does not count. A failed write
   * closes the connection.
   */
  public Future<Void> send(JsonObject message) {
    return send(message, isChat(message));
  }

  /**
   * Writes ACK (105) of a request with its {@code seq}: as text when the seq is a whole number
   * (nothing built or encoded per chat), else as {@link #send} writes it; the same bytes.
   */
  public Future<Void> sendAck(int ref, Object seq) {
    String text = ref == MsgId.OFFLINE_ACK ? null : Replies.ackText(ref, seq);
    if (text == null) {
      return send(Replies.ack(ref, seq));
    }
    if (state == State.ENDED || closeReason != null) {
      return Future.failedFuture("connection closing");
    }
    GatewayMetrics.current().sentAck();
    return write(Buffer.buffer(text.getBytes(StandardCharsets.ISO_8859_1)), false, ++writes);
  }

  /**
   * Writes a stored message (it stays in the store until acknowledged, so it is neither kept
   * again if unwritten nor recorded as delivered when written); its msgno is remembered.
   */
  public Future<Void> sendStored(JsonObject message) {
    remember(message.getString("msgno"));
    return send(message, false);
  }

  private Future<Void> send(JsonObject message, boolean chat) {
    return send(message, chat, null);
  }

  /** {@code encoded}: the message's compact JSON text, when the caller has it (else null). */
  private Future<Void> send(JsonObject message, boolean chat, String encoded) {
    if (state == State.ENDED || closeReason != null) {
      return Future.failedFuture("connection closing");
    }
    GatewayMetrics.current().sent(message);
    Buffer text = encoded != null ? Buffer.buffer(encoded.getBytes(StandardCharsets.UTF_8))
        : JsonText.toBuffer(message);
    long writeNumber = ++writes;
    if (chat) {
      track(writeNumber, new Unwritten(message, null, message.getString("msgno"), userId,
          Promise.promise()));
    }
    return write(text, chat, writeNumber);
  }

  /** Writes a chat known by its text and numbers, as {@link #send} writes it. */
  private void sendChatText(int msgid, String msgno, String text) {
    if (state == State.ENDED || closeReason != null) {
      return;
    }
    GatewayMetrics.current().sentChat(msgid);
    long writeNumber = ++writes;
    track(writeNumber, new Unwritten(null, text, msgno, userId, Promise.promise()));
    write(Buffer.buffer(text.getBytes(StandardCharsets.UTF_8)), true, writeNumber);
  }

  /** A chat handed to the socket: it is written, or stored if the connection ends first. */
  private void track(long writeNumber, Unwritten chat) {
    unwrittenChats.put(writeNumber, chat);
    lastChatSettled = chat.settled().future();
    remember(chat.msgno());
  }

  /** Writes a message's text: write number {@code writeNumber}, a chat or not. */
  private Future<Void> write(Buffer text, boolean chat, long writeNumber) {
    int size = text.length();
    unwrittenBytes += size;
    Future<Void> written = connection.write(text).andThen(ar -> {
      unwrittenBytes -= size;
      if (ar.succeeded()) {
        completedBytes += size;
      }
      if (chat && ar.succeeded() && unwrittenChats.containsKey(writeNumber)) {
        writtenUnsettled.add(new long[] {writeNumber, System.nanoTime()});
        armWrittenSettle();
      }
      if (ar.failed() && closeReason == null) {
        closeReason = CloseReason.WRITE_FAILED;
        boundClose();
        connection.close();
      }
    });
    watchOutput(size);
    return written;
  }

  private void armWrittenSettle() {
    if (writtenSettleTimer < 0 && !writtenUnsettled.isEmpty()) {
      writtenSettleTimer = vertx.setTimer(WRITTEN_SETTLE_MS, t -> {
        writtenSettleTimer = -1;
        settleWritten(false);
      });
    }
  }

  /**
   * Chats whose writes completed at least {@link #WRITTEN_SETTLE_MS} ago (all of them with
   * {@code all}) count as given: they leave the unwritten ones and are settled.
   */
  private void settleWritten(boolean all) {
    long now = System.nanoTime();
    while (!writtenUnsettled.isEmpty()) {
      long[] written = writtenUnsettled.peek();
      if (!all && now - written[1] < WRITTEN_SETTLE_MS * 1_000_000) {
        break;
      }
      writtenUnsettled.poll();
      Unwritten unwritten = unwrittenChats.remove(written[0]);
      if (unwritten != null) {
        handler.written(this, unwritten.forUser(), unwritten.msgno());
        unwritten.settled().complete();
      }
    }
    armWrittenSettle();
  }

  /**
   * Judged on what was already waiting before the newest message, so one large message (a
   * login ack with a long backlog) still goes out to a client that reads. Above the bound, a
   * client whose socket takes nothing for the grace period is cut off; far above it (four
   * times), it is cut off at once, whatever it still reads: memory per connection is bounded.
   */
  private void watchOutput(int newest) {
    long before = unwrittenBytes - newest;
    if (before <= config.outboundMaxBytes() || closeReason != null) {
      return;
    }
    if (before > 4L * config.outboundMaxBytes()) {
      cutOff(unwrittenBytes);
    } else if (slowCheckTimer < 0) {
      armSlowCheck(completedBytes);
    }
  }

  private void armSlowCheck(long completedAtStart) {
    slowCheckTimer = vertx.setTimer(Math.max(1, config.slowConsumerGraceMs()), t -> {
      slowCheckTimer = -1;
      if (unwrittenBytes <= config.outboundMaxBytes() || state == State.ENDED) {
        return;
      }
      if (completedBytes == completedAtStart) {
        cutOff(unwrittenBytes);
      } else {
        armSlowCheck(completedBytes);
      }
    });
  }

  /**
   * A slow consumer: closed at once (the process waits for no flush), its unwritten chats
   * kept for the next login. What the socket took before the cut is a prefix of the chats it
   * was handed; the writes still queued fail, and exactly those are stored, in order, once
   * the transport reports the close ({@link #closed}); deliveries refused meanwhile wait for
   * that store.
   */
  private void cutOff(long pending) {
    if (closeReason != null) {
      return;
    }
    LOG.warn("session {} user {} is not reading: {} bytes unwritten; closing", connectionId,
        userId, pending);
    closeReason = CloseReason.SLOW_CONSUMER;
    connection.closeNow();
  }

  // ---- internals ----

  private void handleNext() {
    JsonObject request = inbox.poll();
    if (request == null || state == State.ENDED) {
      handling = false;
      return;
    }
    handling = true;
    currentBytes = inboxSizes.poll();
    currentKept = false;
    Future<Void> handled;
    try {
      handled = handler.handle(this, request);
    } catch (RuntimeException e) {
      handled = Future.failedFuture(e);
    }
    Runnable finish = currentKept ? null : keepHeld();
    currentKept = false;
    handled.onComplete(ar -> {
      if (finish != null) {
        finish.run();
      }
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
    JsonObject reply = Replies.error(error.errno(), error.getMessage(), refOf(request),
        Fields.seq(request));
    if (error.errno() == ErrorCode.UNAVAILABLE) {
      reply.put("retry_after_ms", ServiceClient.retryAfterMs());
    }
    if (error.retryAfterMs() > 0) {
      reply.put("retry_after_ms", error.retryAfterMs());
    }
    send(reply);
  }

  /**
   * Chat messages for this user session that will never be written are stored for the next
   * login, oldest first; refusals of later deliveries wait until they are stored.
   */
  private void keepUndelivered() {
    if (unwrittenChats.isEmpty() && heldDuringLogin.isEmpty()) {
      return;
    }
    // Each for the user it was taken for (the connection may have logged in as another since),
    // in the order it was taken.
    List<Unwritten> undelivered = new ArrayList<>(unwrittenChats.values());
    unwrittenChats.clear();
    if (userId >= 0) {
      heldDuringLogin.stream().filter(Session::isChat)
          .forEach(m -> undelivered.add(new Unwritten(m, null, m.getString("msgno"), userId,
              Promise.promise())));
    }
    heldDuringLogin.clear();
    Map<Integer, List<Unwritten>> byUser = new LinkedHashMap<>();
    undelivered.forEach(u -> byUser.computeIfAbsent(u.forUser(), k -> new ArrayList<>()).add(u));
    List<Future<Void>> stores = new ArrayList<>();
    stores.add(kept);
    byUser.forEach((user, chats) -> {
      List<JsonObject> messages = chats.stream().map(Unwritten::message).toList();
      Future<Void> stored = user < 0 ? Future.succeededFuture()
          : handler.keep(this, user, messages);
      stored.onComplete(ar -> chats.forEach(u -> u.settled().tryComplete()));
      stores.add(stored);
    });
    kept = Future.join(stores).mapEmpty();
  }

  /**
   * A chat handed to the socket and not yet written: the message (or only its text, read if it
   * must be stored), for whom, and when it is settled.
   */
  private record Unwritten(JsonObject parsed, String text, String msgno, int forUser,
                           Promise<Void> settled) {

    JsonObject message() {
      return parsed != null ? parsed : JsonText.parseObject(text);
    }
  }

  /**
   * A close that writes (its last message, or the flush before the close) to a client that
   * does not take it within the slow-consumer grace: the client is not reading, and is cut off
   * at once like a slow consumer, not left open until its socket times out.
   */
  private void cutIfNotDoneInGrace(Future<Void> closing) {
    long timer = vertx.setTimer(Math.max(1, config.slowConsumerGraceMs()), t -> {
      if (!closing.isComplete() && state != State.ENDED) {
        LOG.warn("session {} user {} is not reading its last message ({}): closing at once",
            connectionId, userId < 0 ? "-" : userId, closeReason);
        connection.closeNow();
      }
    });
    closing.onComplete(ar -> vertx.cancelTimer(timer));
  }

  /** A close has begun: if the transport has not reported it within the bound, close at once. */
  private void boundClose() {
    if (closeBoundTimer >= 0 || state == State.ENDED) {
      return;
    }
    closeBoundTimer = vertx.setTimer(CLOSE_BOUND_MS, t -> {
      closeBoundTimer = -1;
      if (state != State.ENDED) {
        LOG.info("session {} user {} did not close within {} ms ({}): closing at once",
            connectionId, userId < 0 ? "-" : userId, CLOSE_BOUND_MS, closeReason);
        connection.closeNow();
      }
    });
  }

  /** ONE_CHAT or GROUP_CHAT. */
  public static boolean isChat(JsonObject message) {
    return MsgId.isChat(message.getValue("msgid"));
  }

  private void endUserSession(String why) {
    if (state != State.USER && state != State.LOGGING_IN) {
      return;
    }
    int endedUser = userId;
    String endedSession = sessionId;
    // Deliveries to this session are refused only once its unwritten chats are stored: it
    // stays findable until then (unless the same user logged in again on it meanwhile).
    kept.onComplete(ar -> context.runOnContext(v -> {
      if (userId != endedUser || endedSession.equals(sessionId)
          || (state != State.USER && state != State.LOGGING_IN)) {
        registry.removeUser(this, endedUser);
      }
    }));
    heldDuringLogin.clear();
    failOfflineCheckWaiters();
    presenceRegistration.onSuccess(v -> events.userSessionEnded(endedUser, endedSession, why));
    presenceRegistration = Future.succeededFuture();
  }

  private void enableHeartbeat() {
    if (heartbeat) {
      return;
    }
    heartbeat = true;
    // Silence counts from now: a client asking for it at login learns the interval from the
    // LOGIN ack, so a slow login (a storm after a failover) must not count as its silence.
    lastSeenNanos = System.nanoTime();
    armHeartbeatCheck();
  }

  /**
   * One timer per session, set for the moment the session would have been silent for the
   * heartbeat timeout: when it fires, either the session is closed or the timer is set again
   * for the new moment. A client that pings every interval wakes it about once per timeout,
   * not every fraction of it, and a silent one is closed on time.
   */
  private void armHeartbeatCheck() {
    long timeoutNanos = config.heartbeatTimeoutSeconds() * 1_000_000_000L;
    long silentNanos = System.nanoTime() - lastSeenNanos;
    if (silentNanos > timeoutNanos) {
      heartbeatTimer = -1;
      LOG.info("session {} user {} silent for {} s", connectionId, userId,
          config.heartbeatTimeoutSeconds());
      closeFor(CloseReason.HEARTBEAT_TIMEOUT, null);
      return;
    }
    // 1 ms past the deadline, so that the check after it finds the session silent
    long delayMs = (timeoutNanos - silentNanos) / 1_000_000L + 1;
    heartbeatTimer = vertx.setTimer(delayMs, t -> {
      if (state != State.ENDED) {
        armHeartbeatCheck();
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
    if (writtenSettleTimer >= 0) {
      vertx.cancelTimer(writtenSettleTimer);
      writtenSettleTimer = -1;
    }
    if (slowCheckTimer >= 0) {
      vertx.cancelTimer(slowCheckTimer);
      slowCheckTimer = -1;
    }
    if (closeBoundTimer >= 0) {
      vertx.cancelTimer(closeBoundTimer);
      closeBoundTimer = -1;
    }
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
