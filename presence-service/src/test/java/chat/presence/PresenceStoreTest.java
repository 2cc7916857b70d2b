package chat.presence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import chat.presence.TestCluster.Stores;
import chat.presence.store.HazelcastPresenceStore;
import chat.presence.store.Outcomes.Connected;
import chat.presence.store.Outcomes.Removed;
import chat.presence.store.SessionRef;
import chat.presence.store.UserSessions;
import chat.protocol.bus.LoginPolicy;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The entry processors and the versions, on three Hazelcast members and a real database. */
@Timeout(120)
class PresenceStoreTest {

  private static final AtomicLong SEQ = new AtomicLong();
  private static TestCluster cluster;
  private static Stores a;
  private static Stores b;

  @BeforeAll
  static void start() {
    cluster = new TestCluster(3);
    a = cluster.storeOn(0);
    b = cluster.storeOn(1);
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  static SessionRef session(String nodeId) {
    long seq = SEQ.incrementAndGet();
    return new SessionRef("s" + seq, nodeId, "tcp", 0, seq);
  }

  @Test
  void versionsGrowWithEveryTransitionAndStartAboveTheRowsVersion() {
    int user = cluster.addUser("offline", 41);
    List<Long> versions = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      SessionRef s = session("node-0");
      // Alternate members: whoever handles a request, the counter is the entry's.
      Stores via = i % 2 == 0 ? a : b;
      Connected in = via.store().connect(user, s, LoginPolicy.KICK).await();
      assertTrue(in.wentOnline());
      versions.add(in.version());
      Removed out = via.store().disconnect(user, s.sessionId()).await();
      assertTrue(out.wentOffline());
      versions.add(out.version());
    }
    assertEquals(42, versions.get(0), "the first version is one above the row's");
    for (int i = 1; i < versions.size(); i++) {
      assertEquals(versions.get(i - 1) + 1, versions.get(i), "versions " + versions);
    }
  }

  @Test
  void aLostEntryIsSeededFromTheRowSoVersionsNeverGoBack() {
    int user = cluster.addUser("offline", 0);
    SessionRef first = session("node-0");
    Connected in = a.store().connect(user, first, LoginPolicy.KICK).await();
    cluster.onContextF(() -> a.mirror().write(user, true, in.version())).await();
    assertEquals("online@" + in.version(), cluster.row(user));
    // The entry is lost (say, two replicas gone at once).
    cluster.members.get(0).getMap(HazelcastPresenceStore.MAP_NAME).delete(user);
    Connected again = b.store().connect(user, session("node-1"), LoginPolicy.KICK).await();
    assertTrue(again.version() > in.version(), again.version() + " after " + in.version());
  }

  @Test
  void anEndReportedBeforeItsConnectMakesTheConnectAddNothing() {
    int user = cluster.addUser("offline", 7);
    SessionRef late = session("node-0");
    Removed early = a.store().disconnect(user, late.sessionId()).await();
    assertEquals(0, early.removed());
    Connected connect = b.store().connect(user, late, LoginPolicy.KICK).await();
    assertTrue(connect.aborted());
    assertFalse(connect.wentOnline());
    assertTrue(a.store().locate(Set.of(user)).await().isEmpty(), "no ghost");
    // A later login of the same user is not affected, and its version is above the row's.
    Connected next = a.store().connect(user, session("node-0"), LoginPolicy.KICK).await();
    assertTrue(next.wentOnline());
    assertEquals(8, next.version());
  }

  @Test
  void kickReplacesWithoutATransitionAndRejectRefuses() {
    int user = cluster.addUser("offline", 0);
    SessionRef first = session("node-0");
    Connected one = a.store().connect(user, first, LoginPolicy.KICK).await();
    Connected two = b.store().connect(user, session("node-1"), LoginPolicy.KICK).await();
    assertFalse(two.wentOnline());
    assertEquals(List.of(first), two.replaced());
    assertEquals(one.version(), two.version(), "a handoff is not a transition");
    Connected three = a.store().connect(user, session("node-2"), LoginPolicy.REJECT).await();
    assertTrue(three.rejected());
    // The kicked session's late end report removes nothing.
    assertEquals(0, a.store().disconnect(user, first.sessionId()).await().removed());
    assertEquals(1, a.store().locate(Set.of(user)).await().get(user).size());
  }

  @Test
  void aConnectOvertakenByALaterLoginOfItsNodeAddsNothingAndKicksNobody() {
    int user = cluster.addUser("offline", 0);
    // Node 0 numbers its connects: the first login's connect (5) was delayed, the second's (6)
    // arrived first, and the first arrives now.
    SessionRef delayed = new SessionRef("late.1", "node-0", "tcp", 1, 5);
    SessionRef fresh = new SessionRef("fresh.1", "node-0", "tcp", 1, 6);
    Connected in = a.store().connect(user, fresh, LoginPolicy.KICK).await();
    assertTrue(in.wentOnline());

    Connected late = b.store().connect(user, delayed, LoginPolicy.KICK).await();

    assertTrue(late.aborted(), "the late connect adds nothing");
    assertEquals(List.of(), late.replaced(), "and kicks nobody");
    assertEquals(List.of("fresh.1"), a.store().locate(Set.of(user)).await().get(user).stream()
        .map(SessionRef::sessionId).toList());
    // A later login of another node still replaces it, and one of the same node too.
    Connected elsewhere = a.store().connect(user,
        new SessionRef("other.1", "node-1", "tcp", 1, 2), LoginPolicy.KICK).await();
    assertEquals(List.of("fresh.1"),
        elsewhere.replaced().stream().map(SessionRef::sessionId).toList());
    Connected next = a.store().connect(user,
        new SessionRef("next.1", "node-0", "tcp", 1, 7), LoginPolicy.KICK).await();
    assertEquals(List.of("other.1"), next.replaced().stream().map(SessionRef::sessionId).toList());
  }

  @Test
  void aRetriedConnectIsAppliedOnce() {
    int user = cluster.addUser("offline", 0);
    SessionRef s = session("node-0");
    Connected first = a.store().connect(user, s, LoginPolicy.MULTI).await();
    Connected retry = b.store().connect(user, s, LoginPolicy.MULTI).await();
    assertTrue(first.wentOnline());
    assertFalse(retry.wentOnline());
    assertEquals(first.version(), retry.version());
    UserSessions entry = a.store().read(Set.of(user)).await().get(user);
    assertEquals(1, entry.sessions().size());
  }
}
