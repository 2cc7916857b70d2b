package chat.presence.notify;

import chat.presence.mirror.StateMirror;
import chat.presence.store.PresenceStore;
import chat.presence.store.SessionRef;
import chat.presence.store.UserSessions;
import chat.protocol.bus.Addresses;
import chat.protocol.bus.BusJson;
import chat.protocol.bus.InFlightLimit;
import chat.protocol.bus.LocalRecords;
import chat.protocol.bus.user.FriendIds;
import chat.protocol.bus.user.FriendLists;
import chat.protocol.bus.user.UserRef;
import chat.protocol.bus.gateway.Deliver;
import chat.protocol.wire.Replies;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What follows a user's online/offline transition: the database mirror is updated and every
 * online friend, wherever connected, gets a PRESENCE message. Used from one verticle's
 * context.
 */
public final class Transitions {

  private static final Logger LOG = LoggerFactory.getLogger(Transitions.class);
  /**
   * Friend lookups in flight at once from this process: a node loss makes thousands of
   * transitions at once, and the user service answers a bounded number of lookups at a time
   * (its database pool); the rest wait here instead of timing out there.
   */
  static final int FRIEND_LOOKUPS_IN_FLIGHT = 32;
  private static final InFlightLimit FRIEND_LOOKUPS = new InFlightLimit(FRIEND_LOOKUPS_IN_FLIGHT);
  /** When friends could not be told, the whole step is tried again after these delays. */
  private static final long[] TELL_AGAIN_MS = {1_000, 2_000, 4_000};
  /**
   * Batches of transitions whose friends are being looked up at once, per instance: while
   * they are, newer transitions queue and go out together.
   */
  static final int TELLS_IN_FLIGHT = 4;

  private final Vertx vertx;
  private final EventBus bus;
  private final PresenceStore store;
  private final StateMirror mirror;
  private static final int FRIEND_LIST_ATTEMPTS = 3;
  private final DeliveryOptions friendListOptions;
  private final DeliveryOptions localFriendListOptions;
  /** A lookup of many users' friends waits a whole request timeout: it is one query, not N. */
  private final DeliveryOptions friendListsOptions;
  private final DeliveryOptions localFriendListsOptions;
  /** Transitions whose friends are not yet being looked up, in the order reported. */
  private final List<Queued> queued = new ArrayList<>();
  private int tellsInFlight;
  private boolean tellScheduled;
  private long lookups;

  /** A transition whose friends are to be told. */
  private record Change(int userId, boolean online, long version) {
  }

  private record Queued(Change change, Promise<Void> told) {
  }

  public Transitions(Vertx vertx, PresenceStore store, StateMirror mirror, long requestTimeoutMs) {
    this.vertx = vertx;
    this.bus = vertx.eventBus();
    this.store = store;
    this.mirror = mirror;
    this.friendListOptions = new DeliveryOptions()
        .setSendTimeout(Math.max(500, requestTimeoutMs / FRIEND_LIST_ATTEMPTS));
    this.localFriendListOptions = LocalRecords.options(friendListOptions.getSendTimeout());
    this.friendListsOptions = new DeliveryOptions().setSendTimeout(requestTimeoutMs);
    this.localFriendListsOptions = LocalRecords.options(requestTimeoutMs);
    LocalRecords.register(bus);
  }

  public StateMirror mirror() {
    return mirror;
  }

  /**
   * Reports a transition: the user went online (or offline) at {@code version}. The future
   * completes when both steps are done: the database write has been answered, and every
   * online friend's node has answered its PRESENCE (or the friends could not be found). It
   * never fails; the caller bounds how long it waits.
   *
   * <p>The friends of the transitions reported while the context is busy are looked up
   * together ({@link FriendLists#MAX_USERS} users per request, {@value #TELLS_IN_FLIGHT}
   * requests at a time; the rest wait and join larger batches), so a storm of logins or the
   * sessions of a lost node cost a few queries, not one per user.
   */
  public Future<Void> transitioned(int userId, boolean online, long version) {
    // at DEBUG: the gateway's login and disconnect lines tell an operator the same
    LOG.debug("user {} is {} (v {})", userId, online ? "online" : "offline", version);
    Future<Void> told = tell(new Change(userId, online, version));
    Future<Boolean> written = mirror.write(userId, online, version);
    return Future.join(told, written).<Void>mapEmpty().otherwiseEmpty();
  }

  /**
   * Many users gone offline at once (a node-loss sweep), each at its version, reported as
   * {@link #transitioned} reports each: their rows and their friends' lookups are batched.
   * Completes when every step is done; never fails.
   */
  public Future<Void> wentOffline(Map<Integer, Long> versions) {
    List<Future<?>> done = new ArrayList<>();
    versions.forEach((userId, version) -> done.add(transitioned(userId, false, version)));
    return Future.join(done).<Void>mapEmpty().otherwiseEmpty();
  }

  /** How many friend lookups (batches of transitions) were sent so far: tests see the batching. */
  public long lookups() {
    return lookups;
  }

  /** Queues a transition for its friends to be told; completes when they were. */
  private Future<Void> tell(Change change) {
    Promise<Void> told = Promise.promise();
    queued.add(new Queued(change, told));
    if (queued.size() >= FriendLists.MAX_USERS) {
      tellQueued();
    } else if (!tellScheduled) {
      tellScheduled = true;
      vertx.runOnContext(v -> {
        tellScheduled = false;
        tellQueued();
      });
    }
    return told.future();
  }

  private void tellQueued() {
    while (tellsInFlight < TELLS_IN_FLIGHT && !queued.isEmpty()) {
      List<Queued> batch = new ArrayList<>(
          queued.subList(0, Math.min(queued.size(), FriendLists.MAX_USERS)));
      queued.subList(0, batch.size()).clear();
      List<Change> changes = batch.stream().map(Queued::change).toList();
      tellsInFlight++;
      lookups++;
      Future<Void> first = tellFriends(changes);
      first.onComplete(ar -> {
        tellsInFlight--;
        tellQueued();
      });
      String whom = changes.size() == 1
          ? "friends of user " + changes.get(0).userId() + " (v " + changes.get(0).version() + ")"
          : "friends of " + changes.size() + " users";
      tellUntilTold(first, () -> tellFriends(changes), whom, 0)
          .onComplete(ar -> batch.forEach(q -> q.told().handle(ar)));
    }
  }

  /** Tells every online friend of each user of one batch of its transition. */
  private Future<Void> tellFriends(List<Change> changes) {
    List<Integer> users = changes.stream().map(Change::userId).distinct().toList();
    return FRIEND_LOOKUPS.submit(() -> friendListsOf(users))
        .compose(lists -> {
          Map<Integer, List<Integer>> friendsOf = new HashMap<>();
          Set<Integer> friends = new HashSet<>();
          lists.forEach(of -> {
            friendsOf.put(of.userId(), of.ids());
            friends.addAll(of.ids());
          });
          return store.locate(friends).compose(located -> {
            List<Future<?>> sent = new ArrayList<>();
            for (Change change : changes) {
              JsonObject payload = Replies.presence(change.userId(), change.online(),
                  change.version());
              for (int friendId : friendsOf.getOrDefault(change.userId(), List.of())) {
                sendPresence(friendId, located.get(friendId), payload, sent);
              }
            }
            return Future.join(sent).<Void>mapEmpty().otherwiseEmpty();
          });
        });
  }

  /** The friends of many users, asked as {@link #friendsOf} asks for one user's. */
  private Future<List<FriendLists.Of>> friendListsOf(List<Integer> users) {
    return askUserService(Addresses.USER_FRIEND_LISTS, new FriendLists(users),
        FriendLists.Reply.class, localFriendListsOptions, friendListsOptions,
        FRIEND_LIST_ATTEMPTS)
        .map(FriendLists.Reply::lists);
  }

  /**
   * Gives a user's sessions on one node the current state of each friend (PRESENCE with its
   * version): for sessions the map had lost and a repair put back, which missed whatever
   * changed meanwhile. Clients keep the newest version of each friend, so a state they had
   * already changes nothing.
   */
  public Future<Void> resendFriendStates(int userId, String nodeId) {
    return FRIEND_LOOKUPS.submit(() -> friendsOf(userId))
        .compose(friends -> store.read(friends).compose(entries -> {
          List<Future<?>> sent = new ArrayList<>();
          for (int friendId : friends) {
            UserSessions entry = entries.get(friendId);
            sent.add(bus.request(Addresses.gatewayDeliver(nodeId),
                Deliver.toUser(userId, Replies.presence(friendId, entry != null && entry.online(),
                    UserSessions.visibleVersion(entry))).toJson(), friendListOptions));
          }
          return Future.join(sent).<Void>mapEmpty().otherwiseEmpty();
        }))
        .onFailure(err -> LOG.warn("friends' states not given again to user {}: {}", userId,
            err.getMessage()));
  }

  /**
   * Sends {@code payload} to the friend's sessions, once per node holding one (none: the
   * friend is offline). A friend whose session ended meanwhile answers NO_SESSION: that is
   * fine.
   */
  private void sendPresence(int friendId, List<SessionRef> sessions, JsonObject payload,
                            List<Future<?>> sent) {
    if (sessions != null) {
      nodesOf(sessions).forEach(node -> sent.add(bus.request(Addresses.gatewayDeliver(node),
          Deliver.toUser(friendId, payload).toJson(), friendListOptions)));
    }
  }

  /**
   * Runs {@code tell}; when it fails (the friends could not be found), tries again after each
   * of {@link #TELL_AGAIN_MS}: a PRESENCE never sent would leave a friend's view wrong until
   * the user changes state again. A late PRESENCE is harmless: clients keep the newest
   * version of each user.
   */
  private Future<Void> tellUntilTold(Future<Void> attempt, Supplier<Future<Void>> tell,
                                     String whom, int round) {
    return attempt.recover(err -> {
      if (round >= TELL_AGAIN_MS.length) {
        LOG.warn("{} not told of the change, {} tries: {}", whom, round + 1, err.getMessage());
        return Future.failedFuture(err);
      }
      LOG.info("{} not told of the change yet: {}; again in {} ms", whom, err.getMessage(),
          TELL_AGAIN_MS[round]);
      return vertx.timer(TELL_AGAIN_MS[round])
          .compose(t -> tellUntilTold(tell.get(), tell, whom, round + 1));
    });
  }

  /**
   * The user's friends, from the user service of this process when it runs one (no network
   * hop, and never a node that has just died), else from any.
   */
  private Future<Set<Integer>> friendsOf(int userId) {
    return askUserService(Addresses.USER_FRIEND_LIST, new UserRef(userId), FriendIds.class,
        localFriendListOptions, friendListOptions, FRIEND_LIST_ATTEMPTS)
        .map(reply -> new HashSet<>(reply.ids()));
  }

  /**
   * A request to the user service of this process when it runs one (the record handed over
   * as it is, the reply record back: {@link LocalRecords}), else to any (as JSON); retried:
   * right after a node dies, the cluster may still route a request to its user service for a
   * moment (the request then times out).
   */
  private <R> Future<R> askUserService(String address, Object query, Class<R> replyType,
                                       DeliveryOptions local, DeliveryOptions any,
                                       int attempts) {
    return bus.request(address, query, local)
        .map(reply -> reply(reply.body(), replyType))
        .recover(err -> err instanceof ReplyException re
                && re.failureType() == ReplyFailure.NO_HANDLERS
            ? bus.<JsonObject>request(address, BusJson.toJson(query), any)
                .map(reply -> BusJson.fromJson(reply.body(), replyType))
            : Future.failedFuture(err))
        .recover(err -> attempts > 1
            ? askUserService(address, query, replyType, local, any, attempts - 1)
            : Future.failedFuture(err));
  }

  /** A reply record as it came from this process, or read from the JSON of another. */
  private static <R> R reply(Object body, Class<R> replyType) {
    return replyType.isInstance(body) ? replyType.cast(body)
        : BusJson.fromJson((JsonObject) body, replyType);
  }

  private static Set<String> nodesOf(List<SessionRef> sessions) {
    Set<String> nodes = new HashSet<>();
    sessions.forEach(s -> nodes.add(s.nodeId()));
    return nodes;
  }
}
