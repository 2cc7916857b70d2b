package chat.node;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Fuzzes the message handlers and the framing of a running node: random requests (known and
 * unknown msgids, every field with values of every type) from a visitor and from a logged-in
 * user, and random bytes. Whatever arrives, every reply is a well-formed message, every ERROR
 * carries a code of the contract, the connection keeps answering, and another user's chat
 * is unaffected.
 */
class RequestFuzzTest {

  private static final Set<Integer> ERRNOS = Set.of(400, 401, 403, 404, 409, 413, 429, 500, 503,
      507);
  private static final List<String> FIELDS = List.of("id", "name", "password", "token", "toid",
      "msg", "friendid", "groupid", "groupname", "groupdesc", "ids", "seq", "time", "format",
      "heartbeat");
  private static final AtomicInteger PINGS = new AtomicInteger();
  /** How many of each client's replies were checked already. */
  private static final Map<TcpTestClient, Integer> CHECKED = new java.util.HashMap<>();

  private static TestNodes nodes;
  private static ChatNode node;
  private static TcpTestClient visitor;
  private static TcpTestClient user;
  private static TcpTestClient bystander;
  private static TcpTestClient listener;
  private static int listenerId;

  @BeforeContainer
  static void start() {
    nodes = new TestNodes(TestDatabase.shared().freshDatabase(),
        Map.of("CHAT_RATE_LIMIT", "100000"));
    node = nodes.start();
    visitor = TcpTestClient.classic(node.tcpPort());
    user = TcpTestClient.lines(node.tcpPort());
    bystander = TcpTestClient.classic(node.tcpPort());
    listener = TcpTestClient.classic(node.tcpPort());
    String tag = UUID.randomUUID().toString().substring(0, 8);
    user.loginOk(user.register("fuzz-" + tag, "pw"), "pw");
    bystander.loginOk(bystander.register("by-" + tag, "pw"), "pw");
    listenerId = listener.register("li-" + tag, "pw");
    listener.loginOk(listenerId, "pw");
  }

  @AfterContainer
  static void stop() {
    for (TcpTestClient c : new TcpTestClient[] {visitor, user, bystander, listener}) {
      c.close();
    }
    nodes.close();
  }

  @Property(tries = 250)
  void anyRequestGetsAWellFormedAnswerAndTheConnectionCarriesOn(
      @ForAll("requests") JsonObject request, @ForAll boolean asUser) {
    TcpTestClient client = asUser ? user : visitor;
    client.send(request);
    // The barrier is a request taken in order behind the one above (a PING would not do: it
    // is answered at once, ahead of queued requests, so the answer to a request that goes
    // over the event bus would arrive after it and escape the checks below). A user gets an
    // ACK, a visitor (or a user the fuzzed request logged out) ERROR 401, both with the seq.
    String seq = "barrier-" + PINGS.incrementAndGet();
    client.send(new JsonObject().put("msgid", 107).put("ids", new JsonArray().add(listenerId))
        .put("seq", seq));
    // The fuzzed request is expected to get ERRORs: they are checked below, not refused here.
    client.expectAllowingErrors(m -> m.getInteger("msgid") != null
            && m.getInteger("msgid") != 101 && seq.equals(m.getValue("seq")),
        "answer to barrier " + seq, TestClient.WAIT);
    checkRepliesSinceLastTime(client, request);
    assertFalse(client.awaitClosed(java.time.Duration.ZERO), "connection closed by " + request);
  }

  /**
   * Every reply since the last check is well formed. An answer that finishes after the barrier
   * (a chat's ACK comes once delivered or stored) is checked with the next request's replies.
   */
  private static void checkRepliesSinceLastTime(TcpTestClient client, JsonObject request) {
    List<JsonObject> all = client.all();
    int from = CHECKED.getOrDefault(client, 0);
    CHECKED.put(client, all.size());
    for (JsonObject reply : all.subList(from, all.size())) {
      Integer msgid = reply.getInteger("msgid");
      assertTrue(msgid != null && msgid > 0, "reply without msgid (after " + request + "): "
          + reply);
      if (msgid == 104) {
        assertTrue(ERRNOS.contains(reply.getInteger("errno")),
            "unknown errno (after " + request + "): " + reply);
      }
    }
  }

  @Property(tries = 150)
  void randomBytesNeverHurt(@ForAll("garbage") byte[] bytes) {
    try (TcpTestClient client = TcpTestClient.classic(node.tcpPort())) {
      client.sendRaw(bytes);
      String seq = "after-garbage-" + PINGS.incrementAndGet();
      client.sendRaw("\n{\"msgid\":100,\"seq\":\"" + seq + "\"}\n");
      // Garbage is answered with ERROR 400 (malformed): expected, skipped on the way to PONG.
      client.expectAllowingErrors(
          m -> m.getInteger("msgid") == 101 && seq.equals(m.getValue("seq")),
          "PONG " + seq, TestClient.WAIT);
    }
    String text = "unaffected " + PINGS.incrementAndGet();
    bystander.chat(listenerId, text);
    // (a fuzzed chat may reach the listener too: wait for this one)
    listener.expect(m -> m.getInteger("msgid") == 6 && text.equals(m.getString("msg")),
        "chat " + text, TestClient.WAIT);
  }

  @Provide
  Arbitrary<JsonObject> requests() {
    Arbitrary<Object> msgid = Arbitraries.oneOf(
        Arbitraries.integers().between(1, 10).map(i -> (Object) i),
        Arbitraries.integers().between(100, 110).map(i -> (Object) i),
        Arbitraries.of(999, -1, 0, "6", 1.5, Long.MAX_VALUE, true).map(o -> o));
    Arbitrary<Map<String, Object>> fields = Arbitraries.maps(Arbitraries.of(FIELDS), values())
        .ofMaxSize(6);
    return Combinators.combine(msgid, fields).as((id, extra) -> {
      JsonObject request = new JsonObject().put("msgid", id);
      extra.forEach(request::put);
      return request;
    });
  }

  private static Arbitrary<Object> values() {
    return Arbitraries.oneOf(
        Arbitraries.integers().between(-5, 50).map(i -> (Object) i),
        Arbitraries.longs().map(l -> (Object) l),
        Arbitraries.doubles().map(d -> (Object) d),
        Arbitraries.strings().ofMaxLength(40).map(s -> (Object) s),
        Arbitraries.of("😀 \"quoted\" \\ 中文", "", " ", "structured", "x".repeat(3000))
            .map(s -> (Object) s),
        Arbitraries.of(true, false).map(b -> (Object) b),
        Arbitraries.just((Object) new JsonArray().add(1).add("2").add(-3)),
        Arbitraries.just((Object) new JsonObject().put("nested", new JsonArray())),
        Arbitraries.just((Object) null));
  }

  @Provide
  Arbitrary<byte[]> garbage() {
    return Arbitraries.bytes().array(byte[].class).ofMaxSize(2000);
  }
}
