package chat.presence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import chat.presence.TestCluster.Stores;
import chat.presence.config.PresenceConfig;
import chat.presence.reaper.PauseSignal;
import chat.presence.store.Outcomes.Connected;
import chat.presence.store.SessionRef;
import chat.protocol.bus.Addresses;
import chat.protocol.bus.FailureCodes;
import chat.protocol.bus.LocalRecords;
import chat.protocol.bus.LoginPolicy;
import chat.protocol.bus.presence.Connect;
import chat.protocol.bus.presence.Disconnect;
import chat.protocol.bus.presence.Located;
import chat.protocol.bus.presence.SessionAt;
import chat.protocol.bus.presence.States;
import chat.protocol.bus.presence.UserIds;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The presence service deployed on embedded members: abandoned logins leave no ghost, a lost
 * member's users go offline on time, and nothing is swept while this side may not sweep.
 */
@Timeout(180)
class PresenceServiceTest {

  private static final Logger LOG = LoggerFactory.getLogger(PresenceServiceTest.class);
  private static final int REPAIR_S = 3;

  private static PresenceConfig config(TestCluster cluster, int member, long sweepIntervalMs) {
    return PresenceConfig.from(new JsonObject().put("nodeId", TestCluster.nodeId(member))
        .put("dbUrl", cluster.dbUrl).put("kickTimeoutMs", 1000L).put("requestTimeoutMs", 3000L)
        .put("repairSeconds", REPAIR_S).put("sweepIntervalMs", sweepIntervalMs));
  }

  private static void deploy(TestCluster cluster, int member, AtomicBoolean maySweep) {
    deploy(cluster, member, maySweep, 2000);
  }

  private static void deploy(TestCluster cluster, int member, AtomicBoolean maySweep,
                             long sweepIntervalMs) {
    PresenceService.deploy(cluster.vertx, config(cluster, member, sweepIntervalMs),
        cluster.members.get(member), PauseSignal.NEVER, maySweep::get).await();
  }

  private static void friendsAreNobody(TestCluster cluster) {
    cluster.fakeFriends(java.util.Map.of());
  }

  private static JsonObject connect(int userId, String sessionId, String nodeId, long seq) {
    return new JsonObject().put("userId", userId).put("sessionId", sessionId)
        .put("nodeId", nodeId).put("transport", "tcp").put("policy", "kick").put("seq", seq);
  }

  @Test
  void aMalformedRequestIsRefusedAtOnceWithInvalidInput() {
    try (TestCluster cluster = new TestCluster(1)) {
      friendsAreNobody(cluster);
      deploy(cluster, 0, new AtomicBoolean(true));
      var bus = cluster.vertx.eventBus();
      var quick = new io.vertx.core.eventbus.DeliveryOptions().setSendTimeout(2000);
      List<Object[]> bad = List.of(
          new Object[] {Addresses.PRESENCE_CONNECT, new JsonObject().put("userId", "seven")},
          new Object[] {Addresses.PRESENCE_DISCONNECT, new JsonObject().put("userId", 1)
              .put("sessionId", new JsonArray())},
          new Object[] {Addresses.PRESENCE_QUERY, new JsonObject().put("ids", "all")},
          new Object[] {Addresses.PRESENCE_LOCATE, new JsonObject().put("ids", 5)},
          new Object[] {Addresses.PRESENCE_CONNECT, "not an object"});
      for (Object[] request : bad) {
        ReplyException refused = assertThrows(ReplyException.class,
            () -> bus.request((String) request[0], request[1], quick).await());
        assertEquals(FailureCodes.INVALID_INPUT, refused.failureCode(),
            request[0] + " " + request[1] + ": " + refused.getMessage());
      }
    }
  }

  @Test
  void aGatewayOfThisProcessHandsOverItsRecordsAndGetsTheReplyRecordsBack() {
    try (TestCluster cluster = new TestCluster(1)) {
      friendsAreNobody(cluster);
      deploy(cluster, 0, new AtomicBoolean(true));
      var bus = cluster.vertx.eventBus();
      var records = LocalRecords.options(3000);
      int user = cluster.addUser("offline", 0);

      Object connected = bus.request(Addresses.PRESENCE_CONNECT,
          new Connect(user, "c9.1", "node-0", "tcp", "kick", 1), records).await().body();
      assertEquals(new Connect.Reply(List.of(), 1), connected);
      TestCluster.eventually(Duration.ofSeconds(3), () -> cluster.row(user).equals("online@1"),
          "the row online");
      Object states = bus.request(Addresses.PRESENCE_QUERY, UserIds.of(user), records).await()
          .body();
      assertInstanceOf(States.class, states);
      assertEquals("online", ((States) states).stateOf(user));
      assertEquals(1L, ((States) states).versionOf(user));
      Object located = bus.request(Addresses.PRESENCE_LOCATE, UserIds.of(user), records).await()
          .body();
      assertEquals(List.of(new SessionAt("c9.1", "node-0")), ((Located) located).of(user));
      Object ended = bus.request(Addresses.PRESENCE_DISCONNECT,
          new Disconnect(user, "c9.1", "node-0", "client_closed"), records).await().body();
      assertEquals(new Disconnect.Reply(true), ended);
      TestCluster.eventually(Duration.ofSeconds(3), () -> cluster.row(user).equals("offline@2"),
          "the row offline");

      // JSON from another process is answered with JSON, as before
      Object json = bus.request(Addresses.PRESENCE_QUERY,
          new JsonObject().put("ids", new JsonArray().add(user))).await().body();
      assertEquals(2L, ((JsonObject) json).getJsonObject("versions").getLong(String.valueOf(user)));
    }
  }

  @Test
  void anAbandonedLoginLeavesNoGhostWithinTheRepairPeriod() {
    try (TestCluster cluster = new TestCluster(2)) {
      friendsAreNobody(cluster);
      deploy(cluster, 0, new AtomicBoolean(true));
      deploy(cluster, 1, new AtomicBoolean(true));
      var bus = cluster.vertx.eventBus();

      // The end reported before the connect arrived: the connect adds nothing.
      int early = cluster.addUser("offline", 0);
      bus.request(Addresses.PRESENCE_DISCONNECT, new JsonObject().put("userId", early)
          .put("sessionId", "c1.1").put("nodeId", "node-1")).await();
      ReplyException refused = assertThrows(ReplyException.class,
          () -> bus.request(Addresses.PRESENCE_CONNECT, connect(early, "c1.1", "node-1", 1)).await());
      assertEquals(FailureCodes.INTERNAL, refused.failureCode());

      // The connect completed after the gateway gave up, and the end report was lost: the
      // gateway's next digest no longer lists the session.
      int late = cluster.addUser("offline", 0);
      bus.request(Addresses.PRESENCE_CONNECT, connect(late, "c2.1", "node-1", 2)).await();
      TestCluster.eventually(Duration.ofSeconds(3), () -> cluster.row(late).equals("online@1"),
          "the late login's row online");
      long faultAt = System.nanoTime();
      bus.publish(Addresses.PRESENCE_NODE_DIGEST, new JsonObject().put("nodeId", "node-1")
          .put("upTo", 2).put("sessions", new JsonArray()));
      TestCluster.eventually(Duration.ofSeconds(REPAIR_S), () -> cluster.row(late).equals("offline@2"),
          "no ghost row within CHAT_REPAIR_S");
      JsonObject query = bus.<JsonObject>request(Addresses.PRESENCE_QUERY,
          new JsonObject().put("ids", new JsonArray().add(late).add(early))).await().body();
      assertEquals("offline", query.getJsonObject("states").getString(String.valueOf(late)));
      assertEquals(2L, query.getJsonObject("versions").getLong(String.valueOf(late)));
      assertEquals("offline@0", cluster.row(early));
      LOG.info("abandoned login repaired {} ms after the digest",
          (System.nanoTime() - faultAt) / 1_000_000);
    }
  }

  @Test
  void aLostMembersUsersGoOfflineOnTimeAndOnlyWhereSweepingIsAllowed() {
    try (TestCluster cluster = new TestCluster(3)) {
      friendsAreNobody(cluster);
      AtomicBoolean maySweep = new AtomicBoolean(true);
      deploy(cluster, 0, maySweep);
      deploy(cluster, 1, maySweep);
      Stores stores = cluster.storeOn(0);
      List<Integer> onLost = new ArrayList<>();
      List<Integer> onLive = new ArrayList<>();
      for (int i = 0; i < 40; i++) {
        int user = cluster.addUser("offline", 0);
        String node = i % 4 == 0 ? "node-0" : "node-2";
        Connected in = stores.store()
            .connect(user, new SessionRef("n" + i, node, "tcp", 0, i), LoginPolicy.KICK).await();
        cluster.onContextF(() -> stores.mirror().write(user, true, in.version())).await();
        (node.equals("node-2") ? onLost : onLive).add(user);
      }
      // First with sweeping forbidden (this side lost its quorum): nothing is removed.
      maySweep.set(false);
      long lostAt = System.nanoTime();
      cluster.members.get(2).getLifecycleService().terminate();
      TestCluster.eventually(Duration.ofSeconds(10),
          () -> cluster.members.get(0).getCluster().getMembers().size() == 2, "member 2 removed");
      long detectedMs = (System.nanoTime() - lostAt) / 1_000_000;
      sleep(2500);
      assertTrue(onLost.stream().allMatch(u -> cluster.row(u).startsWith("online@")),
          "no sweep while this side may not sweep");
      // Allowed again: the periodic sweep removes them.
      long allowedAt = System.nanoTime();
      maySweep.set(true);
      TestCluster.eventually(Duration.ofSeconds(4), () -> cluster.countOnline(onLost) == 0,
          "the lost node's users offline");
      assertTrue(onLive.stream().allMatch(u -> cluster.row(u).startsWith("online@")),
          "other users untouched");
      assertTrue(stores.store().locate(Set.copyOf(onLost)).await().isEmpty());
      LOG.info("member loss detected after {} ms; swept {} ms after sweeping was allowed",
          detectedMs, (System.nanoTime() - allowedAt) / 1_000_000);
    }
  }

  @Test
  void theNodeLossSweepDoesNotWaitForPartitionMigration() {
    try (TestCluster cluster = new TestCluster(3)) {
      friendsAreNobody(cluster);
      // The periodic sweep comes too late to count: only the node-loss path can make it.
      deploy(cluster, 0, new AtomicBoolean(true), 30_000);
      deploy(cluster, 1, new AtomicBoolean(true), 30_000);
      Stores stores = cluster.storeOn(0);
      List<Integer> onLost = new ArrayList<>();
      for (int i = 0; i < 60; i++) {
        int user = cluster.addUser("offline", 0);
        Connected in = stores.store()
            .connect(user, new SessionRef("m" + i, "node-2", "tcp", 0, i), LoginPolicy.KICK).await();
        cluster.onContextF(() -> stores.mirror().write(user, true, in.version())).await();
        onLost.add(user);
      }
      cluster.members.get(2).getLifecycleService().terminate();
      TestCluster.eventually(Duration.ofSeconds(10),
          () -> cluster.members.get(0).getCluster().getMembers().size() == 2, "member 2 removed");
      long detectedAt = System.nanoTime();
      TestCluster.eventually(Duration.ofSeconds(10), () -> cluster.countOnline(onLost) == 0,
          "every user of the lost member offline");
      long tookMs = (System.nanoTime() - detectedAt) / 1_000_000;
      LOG.info("lost member's {} users offline {} ms after detection", onLost.size(), tookMs);
      assertTrue(tookMs <= 1500, "offline " + tookMs + " ms after the detection (at most 1500)");
    }
  }

  @Test
  void aLiveUserWhoseRowSaysOfflineIsRepairedWhileTheReapersOwnWritesAreStuck() throws Exception {
    try (TestCluster cluster = new TestCluster(1)) {
      friendsAreNobody(cluster);
      deploy(cluster, 0, new AtomicBoolean(true));
      var bus = cluster.vertx.eventBus();
      int live = cluster.addUser("offline", 0);
      int stuck = cluster.addUser("offline", 0);
      bus.request(Addresses.PRESENCE_CONNECT, connect(live, "c7.1", "node-0", 1)).await();
      TestCluster.eventually(Duration.ofSeconds(3), () -> cluster.row(live).equals("online@1"),
          "the login's row online");
      // The reaper's own writes stay unanswered (another transaction holds the row it writes):
      // its mirror has a backlog for as long as the lock is held, as while a long sweep's rows
      // are written.
      io.vertx.sqlclient.SqlConnection locker = cluster.db.getConnection().await();
      io.vertx.sqlclient.Transaction locks = locker.begin().await();
      try {
        locker.preparedQuery("SELECT id FROM user WHERE id = ? FOR UPDATE")
            .execute(io.vertx.sqlclient.Tuple.of(stuck)).await();
        // The gateway's digest: the live user's session, and one of a user the map lacks
        // (put back by the reaper, whose row write then waits for the lock).
        bus.publish(Addresses.PRESENCE_NODE_DIGEST, new JsonObject().put("nodeId", "node-0")
            .put("upTo", 2).put("sessions", new JsonArray()
                .add(new JsonArray().add(live).add("c7.1").add("tcp").add(true))
                .add(new JsonArray().add(stuck).add("c8.1").add("tcp").add(true))));
        TestCluster.eventually(Duration.ofSeconds(5), () -> "online".equals(bus.<JsonObject>request(
                Addresses.PRESENCE_QUERY, new JsonObject().put("ids", new JsonArray().add(stuck)))
                .await().body().getJsonObject("states").getString(String.valueOf(stuck))),
            "the missing session put back");
        sleep(500);
        // Now a stale write with a higher version leaves the live user's row offline.
        cluster.db.preparedQuery(
                "UPDATE user SET state = 'offline', state_version = 9 WHERE id = ?")
            .execute(io.vertx.sqlclient.Tuple.of(live)).await();
        long sentAt = System.nanoTime();
        // Two repair rounds (CHAT_REPAIR_S / 3 each) and some room for a loaded machine.
        TestCluster.eventually(Duration.ofMillis(2 * REPAIR_S * 1000L / 3 + 2000),
            () -> cluster.row(live).startsWith("online@"),
            "the live user's row online again while the reaper's writes wait");
        assertTrue(cluster.row(stuck).startsWith("offline@"), "the stuck write is still waiting");
        LOG.info("live user's row repaired {} ms after it went wrong, the reaper's writes stuck",
            (System.nanoTime() - sentAt) / 1_000_000);
      } finally {
        locks.rollback().await();
        locker.close().await();
      }
      TestCluster.eventually(Duration.ofSeconds(10), () -> cluster.row(stuck).startsWith("online@"),
          "the stuck write lands once the lock is gone");
    }
  }

  @Test
  void timeoutsAreCheckedAgainstEachOther() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> PresenceConfig.from(new JsonObject().put("nodeId", "n").put("dbUrl", "mysql://x/y")
            .put("kickTimeoutMs", 5000L).put("requestTimeoutMs", 5000L)));
    assertTrue(e.getMessage().contains("CHAT_KICK_TIMEOUT_MS"), e.getMessage());
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
