package chat.gateway.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import chat.gateway.GatewayConfig;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A session whose socket the test drives by hand (which writes complete, when the transport
 * reports the close): a delivery the session refuses is answered only once every chat it took
 * before is written or stored, so a sender that stores what was refused stores it behind them.
 */
@Timeout(30)
class SessionCloseOrderTest {

  private static final int ALICE = 7;
  private static final int BOB = 8;

  private Vertx vertx;
  private Context context;
  private FakeConnection connection;
  private Recorder handler;
  private Session session;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    context = vertx.getOrCreateContext();
    GatewayConfig config = GatewayConfig.from(new JsonObject().put("nodeId", "n1")
        .put("maxFrameBytes", 4096).put("outboundMaxBytes", 4096)
        .put("slowConsumerGraceMs", 60_000L));
    connection = new FakeConnection();
    handler = new Recorder();
    session = onContext(() -> {
      Session s = new Session("c1", connection, context, config, new SessionRegistry(), handler,
          (user, id, why) -> handler.events.add("ended " + user));
      s.opened();
      return s;
    });
  }

  @AfterEach
  void stop() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void aDeliveryRefusedAfterTheCutWaitsUntilTheUnwrittenChatsAreStored() throws Exception {
    String sessionId = login(BOB);
    // 1 KB chats: the socket takes the first three, then nothing; above four times the
    // 4 KB bound of output waiting, the session cuts the client off at once.
    int sent = 0;
    while (!connection.cut) {
      assertTrue(deliver(sessionId, chat(sent)), "taken while the connection is open");
      if (sent < 3) {
        complete(sent);
      }
      sent++;
    }
    Future<Boolean> late = session.deliver(sessionId, chat(999))
        .andThen(ar -> handler.events.add("refused"));
    // The transport reports the close a little later (Netty: after the channel deregisters).
    long waited = System.nanoTime();
    while (!late.isComplete() && System.nanoTime() - waited < 300_000_000L) {
      Thread.sleep(10);
    }
    onContext(() -> {
      connection.failPending();
      session.closed();
      return null;
    });
    assertFalse(late.toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS),
        "refused: the session is closing");
    List<String> expected = new ArrayList<>();
    for (int i = 3; i < sent; i++) {
      expected.add(String.valueOf(i));
    }
    assertEquals(List.of("keep " + BOB + " " + expected, "stored", "refused"),
        handler.events.stream().filter(e -> !e.startsWith("ended") && !e.startsWith("written"))
            .toList(),
        "the unwritten suffix is stored, in order, before a later chat is refused");
  }

  @Test
  void aDeliveryRefusedAfterALogoutWaitsUntilTheChatsBeforeItAreWritten() throws Exception {
    String sessionId = login(BOB);
    for (int i = 0; i < 3; i++) {
      assertTrue(deliver(sessionId, chat(i)));
    }
    onContext(() -> {
      session.logout();
      return null;
    });
    Future<Boolean> late = session.deliver(sessionId, chat(999));
    long waited = System.nanoTime();
    while (!late.isComplete() && System.nanoTime() - waited < 300_000_000L) {
      Thread.sleep(10);
    }
    assertFalse(late.isComplete(), "not refused while chats taken before it are unwritten");
    for (int i = 0; i < 3; i++) {
      complete(i);
    }
    assertFalse(late.toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS));
  }

  @Test
  void unwrittenChatsOfAnEarlierLoginAreStoredForTheirOwnUser() throws Exception {
    String bobSession = login(BOB);
    assertTrue(deliver(bobSession, chat(0)));
    assertTrue(deliver(bobSession, chat(1)));
    onContext(() -> {
      session.logout();
      return null;
    });
    String aliceSession = login(ALICE);
    assertTrue(deliver(aliceSession, chat(2)));
    onContext(() -> {
      connection.failPending();
      session.closed();
      return null;
    });
    long deadline = System.nanoTime() + 5_000_000_000L;
    while (handler.events.stream().filter("stored"::equals).count() < 2
        && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    List<String> keeps = handler.events.stream().filter(e -> e.startsWith("keep")).toList();
    assertEquals(List.of("keep " + BOB + " [0, 1]", "keep " + ALICE + " [2]"), keeps);
  }

  @Test
  void chatsThatCameAsTextAreWrittenAsTheyAreAndStoredWholeWhenNotWritten() throws Exception {
    String sessionId = login(BOB);
    for (int i = 0; i < 3; i++) {
      assertTrue(deliverText(sessionId, chat(i)));
    }
    assertTrue(deliverText(sessionId, chat(1)), "a chat it had already counts as delivered");
    assertEquals(List.of(chat(0).encode(), chat(1).encode(), chat(2).encode()),
        onContext(() -> connection.texts.stream().filter(t -> t.contains("\"msgid\":6"))
            .toList()),
        "each written once, as its text");
    onContext(() -> {
      connection.failPending();
      session.closed();
      return null;
    });
    long deadline = System.nanoTime() + 5_000_000_000L;
    while (!handler.events.contains("stored") && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertEquals(List.of(chat(0), chat(1), chat(2)), handler.kept,
        "the chats not written are stored whole, in order");
  }

  // ---- helpers ----

  private String login(int userId) {
    return onContext(() -> {
      String id = session.beginLogin(userId, "u" + userId);
      session.completeLogin(new JsonObject().put("msgid", 2).put("errno", 0), false);
      connection.writes.get(connection.writes.size() - 1).tryComplete();
      return id;
    });
  }

  private static JsonObject chat(int i) {
    return new JsonObject().put("msgid", 6).put("id", ALICE).put("toid", BOB)
        .put("msg", i + ":" + "p".repeat(1000)).put("msgno", "m" + i);
  }

  private boolean deliver(String sessionId, JsonObject chat) throws Exception {
    return session.deliver(sessionId, chat).toCompletionStage().toCompletableFuture()
        .get(5, TimeUnit.SECONDS);
  }

  /** Delivers a chat as another node hands it over: its text, msgid and msgno. */
  private boolean deliverText(String sessionId, JsonObject chat) throws Exception {
    Promise<Boolean> taken = Promise.promise();
    session.deliverText(sessionId, chat.getInteger("msgid"), chat.getString("msgno"),
        chat.encode(), Long.MAX_VALUE, taken);
    return taken.future().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
  }

  /** Completes the write of the n-th chat handed to the socket (the login ack not counted). */
  private void complete(int n) {
    onContext(() -> {
      connection.chatWrite(n).tryComplete();
      return null;
    });
  }

  private <T> T onContext(Supplier<T> action) {
    CompletableFuture<T> result = new CompletableFuture<>();
    context.runOnContext(v -> {
      try {
        result.complete(action.get());
      } catch (RuntimeException e) {
        result.completeExceptionally(e);
      }
    });
    try {
      return result.get(5, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  /** A socket whose writes complete when the test says, and whose close is reported later. */
  private final class FakeConnection implements ClientConnection {
    final List<Promise<Void>> writes = new ArrayList<>();
    final List<String> texts = new ArrayList<>();
    boolean cut;

    Promise<Void> chatWrite(int n) {
      int seen = -1;
      for (int i = 0; i < texts.size(); i++) {
        if (texts.get(i).contains("\"msgid\":6") && ++seen == n) {
          return writes.get(i);
        }
      }
      return writes.get(writes.size() - 1);
    }

    void failPending() {
      writes.forEach(p -> p.tryFail("connection closed"));
    }

    @Override
    public String transport() {
      return "fake";
    }

    @Override
    public String remoteAddress() {
      return "test";
    }

    @Override
    public Future<Void> write(Buffer json) {
      Promise<Void> written = Promise.promise();
      writes.add(written);
      texts.add(json.toString());
      return written.future();
    }

    @Override
    public Future<Void> writeAndClose(String json, short webSocketCloseCode) {
      return write(Buffer.buffer(json));
    }

    @Override
    public Future<Void> close() {
      return Future.succeededFuture();
    }

    @Override
    public Future<Void> closeNow() {
      cut = true;
      // As Netty does: what the socket did not take fails at once.
      failPending();
      return Future.succeededFuture();
    }
  }

  /** A request handler that records what the session asks of it. */
  private final class Recorder implements RequestHandler {
    final List<String> events = java.util.Collections.synchronizedList(new ArrayList<>());
    final List<JsonObject> kept = java.util.Collections.synchronizedList(new ArrayList<>());

    @Override
    public Future<Void> handle(Session session, JsonObject request) {
      return Future.succeededFuture();
    }

    @Override
    public Future<Void> keep(Session session, int userId, List<JsonObject> messages) {
      kept.addAll(messages);
      List<String> numbers = messages.stream().map(m -> m.getString("msg").split(":")[0]).toList();
      events.add("keep " + userId + " " + numbers);
      Promise<Void> stored = Promise.promise();
      // The store answers a moment later, as a database does.
      vertx.setTimer(50, t -> {
        events.add("stored");
        stored.complete();
      });
      return stored.future();
    }

    @Override
    public void written(Session session, int userId, String msgno) {
      events.add("written " + msgno);
    }
  }
}
