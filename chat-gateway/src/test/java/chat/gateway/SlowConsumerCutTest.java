package chat.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
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
