package chat.gateway.handler;

import chat.gateway.bus.ServiceClient;
import chat.gateway.handler.Delivery.Target;
import chat.gateway.session.Session;
import chat.protocol.bus.Addresses;
import chat.protocol.bus.ServiceFailure;
import chat.protocol.bus.user.GroupRef;
import chat.protocol.wire.ErrorCode;
import chat.protocol.wire.Fields;
import chat.protocol.wire.JsonText;
import chat.protocol.wire.ProtocolException;
import chat.protocol.wire.Replies;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The chats of one session in flight, in one ordered lane per target (a user, or a group).
 * Everything runs on the session's event loop.
 *
 * <p>Every chat goes to the message log (through the node's one sequential writer) as soon as
 * it is accepted, so its place in history is its accept order, and is answered only once it is
 * logged. A user lane hands each chat to the log without waiting for earlier chats'
 * deliveries. Until the lane knows its user exists (a first chat logged), it takes chats on in
 * order as they are logged: a chat to no such user is answered 404, and a chat the log did not
 * take is answered 503 (with {@code retry_after_ms}) and is neither delivered nor logged. Once
 * the user is known, a chat is delivered while it is being logged and answered when both are
 * done, so one chat costs the longer of the two rather than their sum. Storing a
 * logged chat later only adds mailbox rows to its log entry. While the store is down (see
 * {@link MessageStore}), a chat to a user this lane already knows exists goes on live and is
 * logged once delivered and the store is back (so chat between online users carries on
 * through a database outage; those chats take their place in history when they are logged).
 *
 * <p>A user lane finds the target's sessions once, then sends its chats to them without
 * waiting for the previous one's answer (up to a window): the event bus keeps one sender's
 * messages to one node in order, and each delivery names the session it is for. When a
 * delivery is refused or times out, the lane stops sending, lets the ones in flight finish,
 * and the refused ones and everything after them go to the store, in order (a refusal comes
 * only after the refusing session has stored what it will never write, so those come first).
 * After a store the lane looks for the user again; a user found online after this session
 * stored something for them is first told to deliver what is stored, and only then gets new
 * chats live: stored ones come first.
 *
 * <p>A group lane takes its chats one at a time: members, the log, their sessions, live
 * deliveries, one store for the members not reached.
 *
 * <p>Each chat is answered once: ACK when delivered to a session or stored for its recipient,
 * ERROR 404 (no such user), 507 (mailbox full) or 503 (the store did not take it).
 */
final class ChatLanes {

  private static final Logger LOG = LoggerFactory.getLogger(ChatLanes.class);
  /** Chats of one lane sent live and not yet answered. */
  static final int WINDOW = 256;
  private static final int STORE_BATCH = 500;
  /** A lane that keeps storing looks for its user again after this long. */
  private static final long RELOCATE_MS = 1_000;
  private static final int MAX_IDLE_LANES = 64;
  private static final int MAX_STORED_TO = 10_000;

  private final Session session;
  private final Delivery delivery;
  private final Map<Integer, UserLane> users = new LinkedHashMap<>();
  private final Map<Integer, GroupLane> groups = new LinkedHashMap<>();
  /** Users this session stored a chat for: their next live chat waits for stored ones. */
  private final Set<Integer> storedTo = new HashSet<>();
  private boolean storedToMany;

  ChatLanes(Session session, Delivery delivery) {
    this.session = session;
    this.delivery = delivery;
  }

  /** One chat accepted from the client: answered later, through {@code release} once done. */
  static final class Chat {
    final JsonObject message;
    /** The message's compact JSON text, made once for the log and every session here. */
    final String text;
    /** The request's msgid and seq (null: none), read as it arrives, for its answer. */
    final int requestMsgid;
    final Object seq;
    final Runnable release;
    /** 0 in flight, 1 delivered, 2 refused. */
    int result;
    /** The log's answer (null while the log append is in flight). */
    AsyncResult<MessageStore.Outcome> logged;
    /** Not logged because the store was down: logged once delivered and the store is back. */
    boolean logLater;

    Chat(JsonObject message, JsonObject request, Runnable release) {
      this.message = message;
      this.text = JsonText.toString(message);
      this.requestMsgid = Fields.msgid(request);
      this.seq = Fields.seq(request);
      this.release = release;
    }
  }

  void toUser(int userId, Chat chat) {
    users.computeIfAbsent(userId, UserLane::new).add(chat);
    trim(users);
  }

  void toGroup(int groupId, Chat chat) {
    groups.computeIfAbsent(groupId, GroupLane::new).add(chat);
    trim(groups);
  }

  /** Lanes with nothing in flight are forgotten once there are many. */
  private static void trim(Map<Integer, ? extends Lane> lanes) {
    if (lanes.size() <= MAX_IDLE_LANES) {
      return;
    }
    for (Iterator<? extends Lane> it = lanes.values().iterator(); it.hasNext()
        && lanes.size() > MAX_IDLE_LANES; ) {
      if (it.next().idle()) {
        it.remove();
      }
    }
  }

  private boolean storedTo(int userId) {
    return storedToMany || storedTo.contains(userId);
  }

  private void markStored(int userId) {
    if (storedTo.size() >= MAX_STORED_TO) {
      storedToMany = true;
      storedTo.clear();
    }
    if (!storedToMany) {
      storedTo.add(userId);
    }
  }

  // ---- answers ----

  private void delivered(Chat chat) {
    if (chat.logLater) {
      delivery.store().logLater(chat.message);
    }
    chat.release.run();
    if (chat.seq != null) {
      session.sendAck(chat.requestMsgid, chat.seq);
    }
  }

  private void refused(Chat chat, int errno, String errmsg) {
    chat.release.run();
    JsonObject error = Replies.error(errno, errmsg, chat.requestMsgid, chat.seq);
    if (errno == ErrorCode.UNAVAILABLE) {
      error.put("retry_after_ms", ServiceClient.retryAfterMs());
    }
    session.send(error);
  }

  private void failed(Chat chat, Throwable err) {
    ProtocolException error = ServiceClient.toClient(err);
    if (error.errno() == ErrorCode.INTERNAL) {
      LOG.error("chat {} could not be delivered or stored", chat.message.getString("msgno"), err);
    }
    refused(chat, error.errno(), error.getMessage());
  }

  private interface Lane {
    boolean idle();
  }

  // ---- one-to-one ----

  private enum Mode { UNKNOWN, LIVE, STORE }

  private final class UserLane implements Lane {
    private final int userId;
    /** Accepted, being logged, in accept order. */
    private final ArrayDeque<Chat> logging = new ArrayDeque<>();
    /** A chat to this user was logged: the user exists (users are never deleted). */
    private boolean exists;
    private final ArrayDeque<Chat> waiting = new ArrayDeque<>();
    private final ArrayDeque<Chat> inFlight = new ArrayDeque<>();
    private final List<Chat> refusedLive = new ArrayList<>();
    private Mode mode = Mode.UNKNOWN;
    private List<Target> route = List.of();
    private boolean busy;
    private boolean draining;
    /** After a store, look for the user even with nothing to send (stored ones wait). */
    private boolean probe;
    private long lastLocate;

    UserLane(int userId) {
      this.userId = userId;
    }

    @Override
    public boolean idle() {
      return !busy && !probe && logging.isEmpty() && waiting.isEmpty() && inFlight.isEmpty();
    }

    void add(Chat chat) {
      if (exists && logging.isEmpty()) {
        // The user exists and every earlier chat is past the log: this one goes on while it
        // is logged, and is answered once both are done (settle).
        waiting.add(chat);
        delivery.store().log(chat.message, chat.text, List.of()).onComplete(ar -> {
          chat.logged = ar;
          settle(chat);
        });
        pump();
        return;
      }
      logging.add(chat);
      List<Integer> mustExist = exists ? List.of() : List.of(userId);
      delivery.store().log(chat.message, chat.text, mustExist).onComplete(ar -> {
        chat.logged = ar;
        takeLogged();
      });
    }

    /** Chats logged, in accept order, go on to delivery; a chat not logged is answered now. */
    private void takeLogged() {
      while (!logging.isEmpty() && logging.peek().logged != null) {
        Chat chat = logging.poll();
        if (chat.logged.failed() && exists && ServiceClient.isRetryLater(chat.logged.cause())) {
          // The store is down and the user is known: chat goes on, logged once it is back.
          chat.logLater = true;
          waiting.add(chat);
        } else if (chat.logged.failed()) {
          failed(chat, chat.logged.cause());
        } else if (chat.logged.result().missing().contains(userId)) {
          refused(chat, ErrorCode.NOT_FOUND, "no such user");
        } else {
          exists = true;
          waiting.add(chat);
        }
      }
      pump();
    }

    private void pump() {
      if (busy) {
        return;
      }
      if (draining) {
        if (!inFlight.isEmpty()) {
          return;
        }
        draining = false;
        for (int i = refusedLive.size() - 1; i >= 0; i--) {
          waiting.addFirst(refusedLive.get(i));
        }
        refusedLive.clear();
        mode = Mode.STORE;
      }
      if (waiting.isEmpty() && !(probe && inFlight.isEmpty())) {
        return;
      }
      switch (mode) {
        case UNKNOWN -> {
          if (inFlight.isEmpty()) {
            locate();
          }
        }
        case LIVE -> sendLive();
        case STORE -> store();
      }
    }

    private void locate() {
      busy = true;
      probe = false;
      lastLocate = System.nanoTime();
      delivery.locate(List.of(userId)).onComplete(ar -> {
        List<Target> found = ar.succeeded() ? ar.result().get(userId) : null;
        if (found == null || found.isEmpty()) {
          busy = false;
          mode = Mode.STORE;
          pump();
        } else if (storedTo(userId)) {
          List<Future<Boolean>> checks = new ArrayList<>();
          found.forEach(t -> checks.add(delivery.deliverStored(t, userId).map(true).otherwise(false)));
          Future.all(checks).onComplete(done -> {
            List<Target> ready = new ArrayList<>();
            for (int i = 0; i < found.size(); i++) {
              if (Boolean.TRUE.equals(checks.get(i).result())) {
                ready.add(found.get(i));
              }
            }
            busy = false;
            live(ready);
            pump();
          });
        } else {
          busy = false;
          live(found);
          pump();
        }
      });
    }

    private void live(List<Target> targets) {
      route = targets;
      mode = targets.isEmpty() ? Mode.STORE : Mode.LIVE;
    }

    private void sendLive() {
      int window = delivery.multiSession() ? 1 : WINDOW;
      while (!waiting.isEmpty() && inFlight.size() < window) {
        Chat chat = waiting.poll();
        inFlight.add(chat);
        List<Target> targets = route;
        List<Future<Boolean>> tries = new ArrayList<>(targets.size());
        for (Target target : targets) {
          tries.add(delivery.deliver(target, userId, chat.message, chat.text));
        }
        Future.all(tries).onComplete(ar -> {
          boolean reached = false;
          for (Future<Boolean> t : tries) {
            reached |= Boolean.TRUE.equals(t.result());
          }
          chat.result = reached ? 1 : 2;
          settle(chat);
        });
      }
    }

    /** A chat was delivered or refused, or its log append answered: answers what is done. */
    private void settle(Chat chat) {
      if (chat.result == 2) {
        draining = true;
      }
      while (!inFlight.isEmpty() && inFlight.peek().result != 0) {
        Chat done = inFlight.peek();
        if (done.result == 1 && done.logged == null) {
          break; // delivered; answered once logged, and so are the ones after it
        }
        inFlight.poll();
        if (done.result == 1) {
          if (done.logged.failed()) {
            loggedLater(done);
          }
          delivered(done);
        } else {
          refusedLive.add(done);
        }
      }
      if (delivery.multiSession() && inFlight.isEmpty() && mode == Mode.LIVE) {
        mode = Mode.UNKNOWN;
      }
      pump();
    }

    /**
     * A chat delivered while its log append failed: with the store down it is logged once the
     * store is back (as a chat delivered while the store was down); any other failure leaves it
     * delivered but out of history, which is logged.
     */
    private void loggedLater(Chat chat) {
      if (ServiceClient.isRetryLater(chat.logged.cause())) {
        chat.logLater = true;
      } else {
        LOG.error("chat {} delivered but not kept in history", chat.message.getString("msgno"),
            chat.logged.cause());
      }
    }

    private void answerStore(Chat chat, Future<MessageStore.Outcome> append) {
      if (append.failed()) {
        failed(chat, append.cause());
      } else if (append.result().full().contains(userId)) {
        refused(chat, ErrorCode.MAILBOX_FULL, "the recipient's mailbox is full");
      } else if (append.result().missing().contains(userId)) {
        refused(chat, ErrorCode.NOT_FOUND, "no such user");
      } else {
        delivered(chat);
      }
    }

    private void store() {
      busy = true;
      List<Chat> batch = new ArrayList<>();
      while (!waiting.isEmpty() && batch.size() < STORE_BATCH) {
        batch.add(waiting.poll());
      }
      markStored(userId);
      List<Future<MessageStore.Outcome>> appends = new ArrayList<>(batch.size());
      int[] answered = {0};
      for (Chat chat : batch) {
        Future<MessageStore.Outcome> append =
            delivery.store().append(chat.message, List.of(userId), true);
        appends.add(append);
        // each answered as soon as it and every earlier one of the batch are stored
        append.onComplete(ar -> {
          while (answered[0] < batch.size() && appends.size() > answered[0]
              && appends.get(answered[0]).isComplete()) {
            answerStore(batch.get(answered[0]), appends.get(answered[0]));
            answered[0]++;
          }
        });
      }
      Future.join(appends).onComplete(all -> {
        busy = false;
        if (waiting.isEmpty() || System.nanoTime() - lastLocate > RELOCATE_MS * 1_000_000) {
          mode = Mode.UNKNOWN;
          probe = true;
        }
        pump();
      });
    }
  }

  // ---- groups ----

  private final class GroupLane implements Lane {
    private final int groupId;
    private final ArrayDeque<Chat> waiting = new ArrayDeque<>();
    private boolean busy;

    GroupLane(int groupId) {
      this.groupId = groupId;
    }

    @Override
    public boolean idle() {
      return !busy && waiting.isEmpty();
    }

    void add(Chat chat) {
      waiting.add(chat);
      pump();
    }

    private void pump() {
      if (busy || waiting.isEmpty()) {
        return;
      }
      busy = true;
      Chat chat = waiting.poll();
      send(chat).onComplete(ar -> {
        if (ar.succeeded()) {
          delivered(chat);
        } else {
          failed(chat, ar.cause());
        }
        busy = false;
        pump();
      });
    }

    private Future<Void> send(Chat chat) {
      int self = chat.message.getInteger("id");
      GroupRef query;
      try {
        query = new GroupRef(self, groupId);
      } catch (ServiceFailure refused) {
        return Future.failedFuture(refused);
      }
      return delivery.services().request(Addresses.USER_GROUP_MEMBERS, query,
          GroupRef.Members.class).compose(reply -> {
        List<Integer> others = new ArrayList<>();
        for (int member : reply.members()) {
          if (member != self) {
            others.add(member);
          }
        }
        return delivery.store().log(chat.message, chat.text, List.of())
            .compose(logged -> others.isEmpty()
                ? Future.<Void>succeededFuture()
                : delivery.locate(others)
                    .otherwise(err -> Map.<Integer, List<Target>>of())
                    .compose(located -> reach(chat, others, located)));
      });
    }

    /** Live to every member online (stored ones first), then one store for the rest. */
    private Future<Void> reach(Chat chat, List<Integer> others, Map<Integer, List<Target>> located) {
      List<Future<Boolean>> each = new ArrayList<>(others.size());
      for (int member : others) {
        List<Target> targets = located.getOrDefault(member, List.of());
        each.add(reachMember(member, targets, chat));
      }
      return Future.all(each).compose(all -> {
        List<Integer> notReached = new ArrayList<>();
        for (int i = 0; i < others.size(); i++) {
          if (!Boolean.TRUE.equals(each.get(i).result())) {
            notReached.add(others.get(i));
          }
        }
        if (notReached.isEmpty()) {
          return Future.succeededFuture();
        }
        notReached.forEach(ChatLanes.this::markStored);
        return delivery.store().append(chat.message, notReached, false).map(outcome -> {
          if (!outcome.full().isEmpty()) {
            LOG.warn("group chat {} not stored for members {}: mailbox full",
                chat.message.getString("msgno"), outcome.full());
          }
          return null;
        });
      });
    }

    private Future<Boolean> reachMember(int member, List<Target> targets, Chat chat) {
      if (targets.isEmpty()) {
        return Future.succeededFuture(false);
      }
      Future<Void> before = Future.succeededFuture();
      if (storedTo(member)) {
        List<Future<Void>> checks = new ArrayList<>();
        targets.forEach(t -> checks.add(delivery.deliverStored(t, member)));
        before = Future.join(checks).mapEmpty();
      }
      return before.transform(checked -> {
        if (checked.failed()) {
          return Future.succeededFuture(false);
        }
        List<Future<Boolean>> tries = new ArrayList<>();
        targets.forEach(t -> tries.add(delivery.deliver(t, member, chat.message, chat.text)));
        return Future.all(tries).map(all -> {
          for (Future<Boolean> t : tries) {
            if (Boolean.TRUE.equals(t.result())) {
              return true;
            }
          }
          return false;
        });
      });
    }
  }
}
