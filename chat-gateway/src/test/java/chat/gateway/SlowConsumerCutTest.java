package chat.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import chat.gateway.session.Session;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The cut of a client that stops reading, seen from both ends: what its socket gave it is a
 * prefix of the chats sent to it, and exactly the rest is stored, in order, once. (On one
 * node the session's store and the sender's store of later chats share one writer; the race
 * between two nodes' writers is shown by {@code SessionCloseOrderTest} and end to end.)
 */
@Timeout(300)
class SlowConsumerCutTest {

  private GatewayHarness harness;

  @AfterEach
  void stop() throws Exception {
    if (harness != null) {
      harness.close();
    }
  }

  /** On Java NIO and on the epoll transport a node runs on. */
  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void whatTheSocketGaveIsAPrefixAndExactlyTheRestIsStoredInOrder(boolean nativeTransport)
      throws Exception {
    harness = GatewayHarness.start(new JsonObject().put("rateLimitPerSecond", 100_000)
        .put("outboundMaxBytes", 262_144).put("slowConsumerGraceMs", 300L), nativeTransport);
    assertEquals(nativeTransport, harness.vertx.isNativeTransportEnabled(), "transport");
    FakeServices services = harness.services;
    int rounds = Integer.getInteger("chat.test.cutRounds", 3);
    for (int round = 0; round < rounds; round++) {
      oneRound(services, round);
    }
    assertEquals(rounds, harness.metrics.counter("chat_slow_consumers").count(),
        "each cut counted in chat_slow_consumers_total");
  }

  private void oneRound(FakeServices services, int round) throws Exception {
    int alice = services.user("alice" + round);
    int bob = services.user("bob" + round);
    int count = 300;
    String pad = "p".repeat(30_000);
    List<Integer> read = new ArrayList<>();
    try (TestClient sender = TestClient.connect(harness.port());
         TestClient slow = TestClient.connect(harness.port(), false, 4096)) {
      sender.login(alice);
      slow.send(new JsonObject().put("msgid", 1).put("id", bob).put("password", "pw"));
      slow.socket.setSoTimeout(20_000);
      InputStream in = slow.socket.getInputStream();
      while (in.read() > 0) {
        // the login ack, up to its NUL; after it the client stops reading
      }
      for (int i = 0; i < count; i++) {
        sender.send(new JsonObject().put("msgid", 6).put("toid", bob).put("msg", i + ":" + pad)
            .put("seq", i));
      }
      for (int i = 0; i < count; i++) {
        assertEquals(0, sender.expect(105).getInteger("errno"));
      }
      // Cut at once, not after a flush to a socket nobody reads: offline by the last answer.
      Eventually.holds("bob shown offline", 1_000, () -> services.sessionsOf(bob).isEmpty());
      // What reached the socket before the cut, up to the EOF that follows it.
      slow.socket.setSoTimeout(0);
      slow.startReading();
      JsonObject frame;
      while ((frame = slow.next(5_000)) != null) {
        if (frame.getInteger("msgid") == 6) {
          read.add(Integer.parseInt(frame.getString("msg").split(":")[0]));
        }
      }
      assertTrue(slow.closedByServer(), "round " + round + ": closed after what it was given");
    }
    List<Integer> kept = services.mailbox(bob).stream()
        .map(m -> Integer.parseInt(m.getString("msg").split(":")[0])).toList();
    assertFalse(kept.isEmpty(), "round " + round + ": the slow reader was not cut off");
    assertTrue(read.size() < count, "round " + round + ": read " + read.size());
    List<Integer> seen = new ArrayList<>(read);
    seen.addAll(kept);
    List<Integer> expected = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      expected.add(i);
    }
    assertEquals(expected, seen, "round " + round + ": read " + ranges(read) + ", stored "
        + ranges(kept));
  }

  /**
   * A kick of a client that does not read (KICKED is queued behind chats it has not taken,
   * below the slow-consumer bound): the old connection is cut off after the slow-consumer
   * grace, not left open until its socket times out; the new login is not held up past its
   * kick timeout, and finds the chats the old one was not given among its stored messages.
   */
  @Test
  void aKickedClientThatDoesNotReadIsCutOffAndTheNewLoginFindsWhatItWasNotGiven()
      throws Exception {
    harness = GatewayHarness.start(new JsonObject().put("rateLimitPerSecond", 100_000)
        .put("outboundMaxBytes", 16 * 1024 * 1024).put("slowConsumerGraceMs", 500L)
        .put("requestTimeoutMs", 5_000L));
    FakeServices services = harness.services;
    int alice = services.user("alice");
    int bob = services.user("bob");
    int count = 200;
    String pad = "p".repeat(30_000);
    List<Integer> read = new ArrayList<>();
    List<Integer> stored = new ArrayList<>();
    try (TestClient sender = TestClient.connect(harness.port());
         TestClient stuck = TestClient.connect(harness.port(), false, 4096)) {
      sender.login(alice);
      stuck.send(new JsonObject().put("msgid", 1).put("id", bob).put("password", "pw"));
      InputStream in = stuck.socket.getInputStream();
      while (in.read() > 0) {
        // the login ack, up to its NUL; after it the client stops reading
      }
      Session old = harness.gateway.sessions().sessionsOf(bob).get(0);
      // 6 MB: more than the kernels hold (about 3 MB on loopback), less than the 16 MB bound
      // of a slow consumer.
      for (int i = 0; i < count; i++) {
        sender.send(new JsonObject().put("msgid", 6).put("toid", bob).put("msg", i + ":" + pad)
            .put("seq", i));
      }
      for (int i = 0; i < count; i++) {
        assertEquals(0, sender.expect(105).getInteger("errno"));
      }
      try (TestClient again = TestClient.connect(harness.port())) {
        long start = System.nanoTime();
        JsonObject ack = again.login(bob, new JsonObject().put("format", "structured"));
        long tookMs = (System.nanoTime() - start) / 1_000_000;
        assertEquals(Session.State.ENDED, old.state(), "the old connection is closed");
        assertTrue(tookMs < 3_000, "the login waited " + tookMs + " ms for the kick");
        ack.getJsonArray("offlinemsg").forEach(m ->
            stored.add(Integer.parseInt(((JsonObject) m).getString("msg").split(":")[0])));
      }
      stuck.startReading();
      JsonObject frame;
      while ((frame = stuck.next(5_000)) != null) {
        if (frame.getInteger("msgid") == 6) {
          read.add(Integer.parseInt(frame.getString("msg").split(":")[0]));
        }
      }
      assertTrue(stuck.closedByServer(), "closed after what it was given");
    }
    assertFalse(stored.isEmpty(), "the old connection was cut off with chats unwritten");
    List<Integer> seen = new ArrayList<>(read);
    seen.addAll(stored);
    List<Integer> expected = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      expected.add(i);
    }
    assertEquals(expected, seen, "read " + ranges(read) + ", then at the new login "
        + ranges(stored));
  }

  private static String ranges(List<Integer> numbers) {
    StringBuilder out = new StringBuilder("[");
    for (int i = 0; i < numbers.size(); i++) {
      int start = numbers.get(i);
      while (i + 1 < numbers.size() && numbers.get(i + 1) == numbers.get(i) + 1) {
        i++;
      }
      out.append(out.length() > 1 ? ", " : "").append(start);
      if (numbers.get(i) != start) {
        out.append('-').append(numbers.get(i));
      }
    }
    return out.append(']').toString();
  }
}
