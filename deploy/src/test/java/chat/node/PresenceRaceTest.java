package chat.node;

import static org.junit.jupiter.api.Assertions.assertEquals;

import chat.node.TestDatabase.FreshDatabase;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Randomised races of one user's events across two nodes — logins on both nodes at once,
 * logout racing a disconnect, a disconnect racing the login itself — checking after every
 * round that the user is online in the database (and in the presence map) if and only if a
 * live session exists.
 */
@ExtendWith(TestDatabase.Extension.class)
@Timeout(180)
class PresenceRaceTest {

  private static final int ROUNDS = 40;
  private static TestNodes nodes;
  private static ChatNode[] cluster;
  private static Db db;

  @BeforeAll
  static void start(FreshDatabase database) {
    db = new Db(database.url());
    nodes = new TestNodes(database.url());
    cluster = new ChatNode[] {nodes.start(), nodes.start()};
  }

  @AfterAll
  static void stop() {
    nodes.close();
  }

  /** A client connection and what it did: logged in (ack errno 0) and not since logged out. */
  private static final class Party {
    final TcpTestClient client;
    boolean loggedOut;
    boolean aborted;

    Party(ChatNode node) {
      client = TcpTestClient.classic(node.tcpPort());
    }

    void login(int id) {
      client.send(new JsonObject().put("msgid", 1).put("id", id).put("password", "pw"));
    }

    /** Waits for the login's outcome: its ack, or KICKED when another login overtook it. */
    void settled() {
      client.expect(m -> m.getInteger("msgid") == 2 || m.getInteger("msgid") == 102,
          "login ack or KICKED", TestClient.WAIT);
    }

    /** Live: its socket is open and its last login succeeded and was not logged out. */
    boolean live() {
      if (aborted || loggedOut || client.awaitClosed(Duration.ZERO)) {
        return false;
      }
      List<JsonObject> acks = client.all().stream().filter(m -> m.getInteger("msgid") == 2).toList();
      boolean kicked = client.all().stream().anyMatch(m -> m.getInteger("msgid") == 102);
      return !kicked && !acks.isEmpty() && acks.get(acks.size() - 1).getInteger("errno") == 0;
    }
  }

  @Test
  void onlineInTheDatabaseIffALiveSessionExistsAfterEveryRound() {
    long seed = System.nanoTime();
    Random random = new Random(seed);
    int id;
    try (TcpTestClient setup = TcpTestClient.classic(cluster[0].tcpPort())) {
      id = setup.register("racer-" + UUID.randomUUID().toString().substring(0, 8), "pw");
    }
    try (TcpTestClient probe = TcpTestClient.classic(cluster[1].tcpPort())) {
      int probeId = probe.register("probe-" + UUID.randomUUID().toString().substring(0, 8), "pw");
      probe.loginOk(probeId, "pw");
      for (int round = 0; round < ROUNDS; round++) {
        List<Party> parties = new ArrayList<>();
        String scenario = play(random, id, parties);
        String context = "seed " + seed + ", round " + round + " (" + scenario + ")";
        Eventually.within(Duration.ofSeconds(5), () -> checkInvariant(id, parties, probe, context));
        parties.forEach(p -> p.client.abort());
        Eventually.within(Duration.ofSeconds(5),
            () -> assertEquals("offline", db.state(id), "after closing all, " + context));
      }
    }
  }

  private static String play(Random random, int id, List<Party> parties) {
    switch (random.nextInt(4)) {
      case 0 -> {
        // Two logins at once on two nodes (policy kick): exactly one must survive.
        Party a = new Party(cluster[0]);
        Party b = new Party(cluster[1]);
        parties.add(a);
        parties.add(b);
        a.login(id);
        b.login(id);
        a.settled();
        b.settled();
        return "double login";
      }
      case 1 -> {
        // Logout racing the disconnect of the same session.
        Party a = new Party(cluster[random.nextInt(2)]);
        parties.add(a);
        a.login(id);
        a.client.expect(2);
        a.client.send(new JsonObject().put("msgid", 3));
        a.loggedOut = true;
        a.client.abort();
        a.aborted = true;
        return "logout racing disconnect";
      }
      case 2 -> {
        // The connection dies while its login is still in flight.
        Party a = new Party(cluster[random.nextInt(2)]);
        parties.add(a);
        a.login(id);
        sleepQuietly(random.nextInt(30));
        a.client.abort();
        a.aborted = true;
        return "disconnect racing login";
      }
      default -> {
        // A live session, then a second login elsewhere while the first disconnects.
        Party a = new Party(cluster[0]);
        Party b = new Party(cluster[1]);
        parties.add(a);
        parties.add(b);
        a.login(id);
        a.client.expect(2);
        b.login(id);
        a.client.abort();
        a.aborted = true;
        b.settled();
        return "kick racing disconnect";
      }
    }
  }

  private static void checkInvariant(int id, List<Party> parties, TcpTestClient probe,
                                     String context) {
    boolean live = parties.stream().anyMatch(Party::live);
    String expected = live ? "online" : "offline";
    assertEquals(expected, db.state(id), "database, " + context);
    probe.send(new JsonObject().put("msgid", 107).put("ids", new JsonArray().add(id)));
    JsonObject states = probe.expect(105).getJsonObject("states");
    assertEquals(expected, states.getString(String.valueOf(id)), "presence map, " + context);
  }

  private static void sleepQuietly(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
