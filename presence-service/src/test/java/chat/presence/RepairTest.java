package chat.presence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import chat.presence.TestCluster.Stores;
import chat.presence.notify.Transitions;
import chat.presence.reaper.DbReconciler;
import chat.presence.reaper.DigestRepair.Digest;
import chat.presence.reaper.DigestRepair;
import chat.presence.store.Outcomes.Connected;
import chat.presence.store.SessionRef;
import chat.protocol.bus.Addresses;
import chat.protocol.bus.LoginPolicy;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The digest repair (gateway ↔ map) and the database reconciliation (map ↔ rows), on three
 * members: each digest is applied on every member, as its publication is.
 */
@Timeout(120)
class RepairTest {

  private static final AtomicLong SEQ = new AtomicLong(1_000);
  private static TestCluster cluster;
  private static Stores[] stores;
  private static DigestRepair[] repairs;
  private static DbReconciler reconciler;
  private static final List<JsonObject> kicks = new CopyOnWriteArrayList<>();
  private static final List<JsonObject> delivered = new CopyOnWriteArrayList<>();
  private static java.util.concurrent.atomic.AtomicInteger friendListsAsked;
  private static Transitions transitions;
  private static final Map<Integer, List<Integer>> FRIENDS =
      new java.util.concurrent.ConcurrentHashMap<>();

  @BeforeAll
  static void start() {
    cluster = new TestCluster(3);
    stores = new Stores[3];
    repairs = new DigestRepair[3];
    friendListsAsked = cluster.fakeFriends(FRIENDS);
    cluster.vertx.eventBus().<JsonObject>consumer(Addresses.gatewayDeliver("node-0"), msg -> {
      delivered.add(msg.body());
      msg.reply(new JsonObject().put("delivered", 1));
    });
    cluster.vertx.eventBus().<JsonObject>consumer(Addresses.gatewayKick("node-0"),
        msg -> kicks.add(msg.body()));
    for (int i = 0; i < 3; i++) {
      Stores s = cluster.storeOn(i);
      stores[i] = s;
      Transitions each = new Transitions(cluster.vertx, s.store(), s.mirror(), 2000);
      repairs[i] = new DigestRepair(s.store(), each, cluster.vertx.eventBus());
      transitions = each;
    }
    reconciler = new DbReconciler(stores[0].store(), stores[0].mirror());
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  private static SessionRef session(String nodeId) {
    long seq = SEQ.incrementAndGet();
    return new SessionRef("d" + seq, nodeId, "tcp", 0, seq);
  }

  private static void applyEverywhere(Digest digest) {
    for (DigestRepair repair : repairs) {
      cluster.onContextF(() -> repair.apply(digest)).await();
    }
  }

  private static JsonArray listed(int userId, String sessionId, boolean loggedIn) {
    return new JsonArray().add(userId).add(sessionId).add("tcp").add(loggedIn);
  }

  private static boolean online(int userId) {
    return stores[0].store().locate(Set.of(userId)).await().containsKey(userId);
  }

  /** The users of {@code users} the watcher was not sent PRESENCE {@code state} at {@code v}. */
  private static Set<Integer> missingFrom(int watcher, String state, long v,
                                          java.util.Collection<Integer> users) {
    Set<Integer> missing = new java.util.HashSet<>(users);
    delivered.forEach(d -> {
      JsonObject presence = d.getJsonObject("payload");
      if (d.getInteger("userId") == watcher && presence != null
          && state.equals(presence.getString("state")) && presence.getLong("v") == v) {
        missing.remove(presence.getInteger("id"));
      }
    });
    return missing;
  }

  @Test
  void manyUsersGoneOfflineAtOnceAreLookedUpInBatchesAndEveryFriendIsTold() {
    int watcher = cluster.addUser("online", 0);
    stores[0].store().connect(watcher, session("node-0"), LoginPolicy.KICK).await();
    Map<Integer, Long> gone = new java.util.HashMap<>();
    for (int i = 0; i < 1_200; i++) {
      int user = 5_000_000 + i;
      FRIENDS.put(user, List.of(watcher));
      gone.put(user, 7L);
    }
    friendListsAsked.set(0);
    delivered.clear();

    cluster.onContextF(() -> transitions.wentOffline(gone)).await();

    assertEquals(3, friendListsAsked.get(), "1,200 users in lookups of at most 500");
    Set<Integer> missing = missingFrom(watcher, "offline", 7, gone.keySet());
    assertEquals(0, missing.size(), "the watcher is told of every one, at its version; "
        + missing.size() + " missing");
  }

  @Test
  void aStormOfLoginsLooksFriendsUpInBatchesAndWritesRowsInBatches() {
    int watcher = cluster.addUser("online", 0);
    stores[0].store().connect(watcher, session("node-0"), LoginPolicy.KICK).await();
    List<Integer> users = new java.util.ArrayList<>();
    for (int i = 0; i < 1_200; i++) {
      int user = cluster.addUser("offline", 3);
      FRIENDS.put(user, List.of(watcher));
      users.add(user);
    }
    friendListsAsked.set(0);
    delivered.clear();
    long lookups = cluster.onContext(transitions::lookups);
    long statements = cluster.onContext(() -> stores[2].mirror().statements());

    // 1,200 logins whose connects were all handled before the context was free again
    cluster.onContextF(() -> Future.all(users.stream()
        .map(user -> transitions.transitioned(user, true, 4)).toList())).await();

    assertTrue(cluster.onContext(transitions::lookups) - lookups <= 3,
        "1,200 transitions in lookups of at most 500");
    assertTrue(friendListsAsked.get() <= 3, "asked " + friendListsAsked.get() + " times");
    assertTrue(cluster.onContext(() -> stores[2].mirror().statements()) - statements <= 3,
        "1,200 rows in statements of at most 500");
    Set<Integer> missing = missingFrom(watcher, "online", 4, users);
    assertEquals(0, missing.size(), "the watcher is told of every one; " + missing.size()
        + " missing");
    assertEquals(1_200, cluster.countOnline(users), "every row written");
  }

  @Test
  void aSessionTheGatewayNoLongerHoldsIsRemovedAndTheRowFollows() {
    // A login the gateway gave up on, whose end report was lost: presence added it anyway.
    int ghost = cluster.addUser("offline", 0);
    int live = cluster.addUser("offline", 0);
    SessionRef abandoned = session("node-0");
    SessionRef kept = session("node-0");
    Connected added = stores[1].store().connect(ghost, abandoned, LoginPolicy.KICK).await();
    cluster.onContextF(() -> stores[1].mirror().write(ghost, true, added.version())).await();
    stores[2].store().connect(live, kept, LoginPolicy.KICK).await();
    // Connected after the digest was taken: not listed, but newer than its counter.
    int newer = cluster.addUser("offline", 0);
    long upTo = SEQ.get();
    SessionRef fresh = session("node-0");
    stores[0].store().connect(newer, fresh, LoginPolicy.KICK).await();

    applyEverywhere(Digest.parse(new JsonObject().put("nodeId", "node-0").put("upTo", upTo)
        .put("sessions", new JsonArray().add(listed(live, kept.sessionId(), true)))));

    assertFalse(online(ghost), "the abandoned session is gone");
    assertTrue(online(live), "a listed session stays");
    assertTrue(online(newer), "a session newer than the digest stays");
    TestCluster.eventually(java.time.Duration.ofSeconds(5),
        () -> cluster.row(ghost).startsWith("offline@"), "row of the ghost offline");
  }

  @Test
  void aLiveSessionTheMapLostIsPutBackButAnEndedOneIsClosed() {
    int lost = cluster.addUser("offline", 3);
    int kicked = cluster.addUser("offline", 0);
    SessionRef old = session("node-0");
    stores[0].store().connect(kicked, old, LoginPolicy.KICK).await();
    stores[0].store().connect(kicked, session("node-1"), LoginPolicy.KICK).await();
    SessionRef unknown = session("node-0");
    kicks.clear();

    applyEverywhere(Digest.parse(new JsonObject().put("nodeId", "node-0").put("upTo", SEQ.get())
        .put("sessions", new JsonArray()
            .add(listed(lost, unknown.sessionId(), true))
            .add(listed(kicked, old.sessionId(), true)))));

    Map<Integer, List<SessionRef>> located =
        stores[0].store().locate(Set.of(lost, kicked)).await();
    assertEquals(List.of(unknown.sessionId()),
        located.get(lost).stream().map(SessionRef::sessionId).toList());
    assertTrue(located.get(kicked).stream().noneMatch(s -> s.sessionId().equals(old.sessionId())),
        "a kicked session is not restored");
    TestCluster.eventually(java.time.Duration.ofSeconds(5),
        () -> kicks.stream().anyMatch(k -> old.sessionId().equals(k.getString("sessionId"))),
        "the gateway is told to close the kicked session");
    TestCluster.eventually(java.time.Duration.ofSeconds(5),
        () -> cluster.row(lost).equals("online@4"), "the restored user's row is online, v 4");
  }

  @Test
  void aSessionPutBackIsGivenItsFriendsCurrentStatesAgain() {
    int lost = cluster.addUser("offline", 0);
    int online = cluster.addUser("offline", 0);
    int offline = cluster.addUser("offline", 0);
    FRIENDS.put(lost, List.of(online, offline));
    Connected connected =
        stores[1].store().connect(online, session("node-1"), LoginPolicy.KICK).await();
    delivered.clear();

    // The map lost this session while its friend went online: it was told nothing.
    applyEverywhere(Digest.parse(new JsonObject().put("nodeId", "node-0").put("upTo", SEQ.get())
        .put("sessions", new JsonArray().add(listed(lost, session("node-0").sessionId(), true)))));

    TestCluster.eventually(java.time.Duration.ofSeconds(5), () -> delivered.stream().anyMatch(d ->
            d.getInteger("userId") == lost
            && d.getJsonObject("payload").getInteger("id") == online
            && "online".equals(d.getJsonObject("payload").getString("state"))
            && d.getJsonObject("payload").getLong("v") == connected.version()),
        "the friend who went online, with its version, given to the session put back");
    TestCluster.eventually(java.time.Duration.ofSeconds(5), () -> delivered.stream().anyMatch(d ->
            d.getInteger("userId") == lost
            && d.getJsonObject("payload").getInteger("id") == offline
            && "offline".equals(d.getJsonObject("payload").getString("state"))),
        "the friend who is offline, too");
  }

  @Test
  void theReconcilerRepairsRowsBothWaysWithVersionsAboveTheRows() {
    int ghostRow = cluster.addUser("online", 50);
    int missedOnline = cluster.addUser("offline", 0);
    int rowAhead = cluster.addUser("offline", 0);
    Connected in = stores[0].store().connect(missedOnline, session("node-0"), LoginPolicy.KICK)
        .await();
    Connected ahead = stores[0].store().connect(rowAhead, session("node-0"), LoginPolicy.KICK)
        .await();
    // A stale write with a higher version made the row say offline.
    cluster.db.preparedQuery("UPDATE user SET state = 'offline', state_version = ? WHERE id = ?")
        .execute(io.vertx.sqlclient.Tuple.of(ahead.version() + 10, rowAhead)).await();

    DbReconciler.Result result = cluster.onContextF(
        () -> reconciler.pass(Set.of(missedOnline, rowAhead))).await();

    assertEquals("offline@51", cluster.row(ghostRow));
    assertEquals("online@" + in.version(), cluster.row(missedOnline));
    assertEquals("online@" + (ahead.version() + 11), cluster.row(rowAhead));
    assertTrue(result.written() >= 3, result.toString());
    // A second pass finds nothing wrong.
    DbReconciler.Result again = cluster.onContextF(
        () -> reconciler.pass(Set.of(missedOnline, rowAhead))).await();
    assertEquals(0, again.wrong(), again.toString());
    // The next transition of that user is newer than what the row holds.
    assertTrue(stores[1].store().disconnect(rowAhead,
            stores[1].store().locate(Set.of(rowAhead)).await().get(rowAhead).get(0).sessionId())
        .await().version() > ahead.version() + 11);
  }

  /**
   * The online rows are read a page at a time and compared all at once, one operation per
   * partition: rows of several pages, in every partition, are each compared with their own
   * entry.
   */
  @Test
  void onlineRowsOfManyPagesAreEachComparedWithTheirOwnEntry() {
    List<Integer> ghosts = cluster.addUsers(1_100, "online", 7); // three pages of 500
    List<Integer> live = cluster.addUsers(40, "offline", 0);
    List<Connected> sessions = new ArrayList<>();
    for (int id : live) {
      sessions.add(stores[0].store().connect(id, session("node-0"), LoginPolicy.KICK).await());
    }

    DbReconciler.Result result = cluster.onContextF(
        () -> reconciler.pass(Set.copyOf(live))).await();

    assertEquals(0, cluster.countOnline(ghosts), "ghost rows left online");
    for (int id : List.of(ghosts.get(0), ghosts.get(550), ghosts.get(ghosts.size() - 1))) {
      assertEquals("offline@8", cluster.row(id), "ghost row " + id);
    }
    for (int i = 0; i < live.size(); i++) {
      assertEquals("online@" + sessions.get(i).version(), cluster.row(live.get(i)));
    }
    assertTrue(result.written() >= ghosts.size() + live.size(), result.toString());
  }

  @Test
  void aWriteThatMatchesNoRowIsNotCountedAsWritten() {
    int user = cluster.addUser("offline", 90);
    Boolean landed = cluster.onContextF(() -> stores[0].mirror().write(user, true, 5)).await();
    assertFalse(landed, "a stale version does not land");
    Boolean missing = cluster.onContextF(() -> stores[0].mirror().write(999_999, true, 5)).await();
    assertFalse(missing, "no such row");
  }
}
