package chat.gateway.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import chat.gateway.GatewayConfig;
import chat.gateway.session.RequestHandler;
import chat.gateway.session.Session;
import chat.gateway.session.SessionRegistry;
import chat.gateway.session.UniqueIds;
import chat.protocol.wire.MsgId;
import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The TCP transport on its own: writes on the channel, and the socket not read while paused. */
@Timeout(60)
class TcpConnectionTest {

  private Vertx vertx;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
  }

  @AfterEach
  void stop() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
  }

  @Test
  void aWriteIsOneTerminatedFrameAndAWriteToAClosedChannelFails() {
    EmbeddedChannel channel = new EmbeddedChannel();
    ContextInternal context = ((VertxInternal) vertx).contextBuilder()
        .withEventLoop(channel.eventLoop()).build();
    TcpConnection connection = new TcpConnection(context, 1024, (c, ctx) -> {
      throw new AssertionError("no session for a channel added while active");
    });
    channel.pipeline().addLast(connection);

    Future<Void> written = connection.write(Buffer.buffer("{\"msgid\":101}"));
    ByteBuf frame = channel.readOutbound();
    assertEquals("{\"msgid\":101}\n", frame.toString(StandardCharsets.UTF_8));
    frame.release();
    assertTrue(written.succeeded(), "written");

    channel.close();
    Future<Void> late = connection.write(Buffer.buffer("{\"msgid\":101}"));
    assertTrue(late.failed(), "a write to a closed channel fails at once");
    assertNull(channel.readOutbound());
  }

  /**
   * A session holding more unhandled requests than its bound pauses its connection: a PING
   * sent then (answered as soon as it is read) is answered only once the session has
   * finished enough of them to resume.
   */
  @Test
  void aPausedConnectionIsNotReadUntilResumed() throws Exception {
    GatewayConfig config = GatewayConfig.from(new JsonObject().put("nodeId", "n1")
        .put("bindHost", "127.0.0.1").put("tcpPort", 0)
        .put("maxFrameBytes", 1024).put("inboundMaxBytes", 1024));
    Promise<Void> held = Promise.promise();
    BlockingQueue<Session> handled = new LinkedBlockingQueue<>();
    AtomicInteger requests = new AtomicInteger();
    RequestHandler handler = (session, request) -> {
      handled.add(session);
      return requests.incrementAndGet() == 1 ? held.future() : Future.succeededFuture();
    };
    TcpGatewayVerticle listener = new TcpGatewayVerticle(config, new SessionRegistry(),
        new UniqueIds("n1", ':'), handler, (user, session, why) -> { });
    vertx.deployVerticle(listener).await(10, TimeUnit.SECONDS);

    try (Socket socket = new Socket("127.0.0.1", listener.actualPort())) {
      BlockingQueue<JsonObject> replies = readReplies(socket);
      OutputStream out = socket.getOutputStream();
      send(out, new JsonObject().put("msgid", MsgId.ADD_FRIEND).put("seq", 1));
      Session session = handled.poll(10, TimeUnit.SECONDS);
      assertNotNull(session, "the first request is being handled");

      send(out, new JsonObject().put("msgid", MsgId.ADD_FRIEND).put("pad", "x".repeat(1000)));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (heldBytes(session) <= config.inboundMaxBytes()) {
        assertTrue(System.nanoTime() < deadline, "the second request was not read");
        Thread.sleep(20);
      }
      send(out, new JsonObject().put("msgid", MsgId.PING).put("seq", "p"));
      assertNull(replies.poll(500, TimeUnit.MILLISECONDS), "paused: the PING is not read");

      session.context().runOnContext(v -> held.complete());
      JsonObject pong = replies.poll(10, TimeUnit.SECONDS);
      assertNotNull(pong, "resumed: the PING is read and answered");
      assertEquals(MsgId.PONG, pong.getInteger("msgid"));
      assertEquals("p", pong.getString("seq"));
    }
  }

  /**
   * PINGs recognised from their bytes behave as parsed ones: the PONG echoes the seq and
   * ends with the client's terminator, a PING counts toward the rate limit (ERROR 429 with
   * ref and seq when over it), turns the heartbeat on (the silent session is then closed);
   * a PING written otherwise is answered the same way by the parsed path.
   */
  @Test
  void pingsRecognisedFromTheirBytesAreAnsweredAsParsedOnes() throws Exception {
    GatewayConfig config = GatewayConfig.from(new JsonObject().put("nodeId", "n1")
        .put("bindHost", "127.0.0.1").put("tcpPort", 0).put("rateLimitPerSecond", 2)
        .put("heartbeatIntervalSeconds", 1).put("heartbeatTimeoutSeconds", 2));
    RequestHandler handler = (session, request) -> Future.succeededFuture();
    TcpGatewayVerticle listener = new TcpGatewayVerticle(config, new SessionRegistry(),
        new UniqueIds("n1", ':'), handler, (user, session, why) -> { });
    vertx.deployVerticle(listener).await(10, TimeUnit.SECONDS);

    try (Socket socket = new Socket("127.0.0.1", listener.actualPort())) {
      ByteArrayOutputStream received = new ByteArrayOutputStream();
      rawReader(socket, received);
      OutputStream out = socket.getOutputStream();
      // four PINGs (the bucket holds 4): each answered, the seq echoed
      out.write(("{\"msgid\":100}\n{\"msgid\":100,\"seq\":42}\n{\"msgid\":100,\"seq\":\"p-1\"}\n"
          + "{\"msgid\": 100, \"seq\": 7}\n").getBytes(StandardCharsets.UTF_8));
      out.flush();
      String pongs = "{\"msgid\":101}\n{\"msgid\":101,\"seq\":42}\n"
          + "{\"msgid\":101,\"seq\":\"p-1\"}\n{\"msgid\":101,\"seq\":7}\n";
      awaitLength(received, pongs.length());
      assertEquals(pongs, received(received));
      // twenty more at once, NUL-terminated: over the limit they are refused (ERROR 429 with
      // ref and seq), in order, each reply ended with NUL
      StringBuilder burst = new StringBuilder();
      for (int i = 0; i < 20; i++) {
        burst.append("{\"msgid\":100,\"seq\":").append(i).append("}\0");
      }
      out.write(burst.toString().getBytes(StandardCharsets.UTF_8));
      out.flush();
      String refused = "{\"msgid\":104,\"errno\":429,\"errmsg\":\"rate limit exceeded: message"
          + " dropped\",\"ref\":100,\"seq\":";
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      String[] replies;
      do {
        Thread.sleep(20);
        replies = received(received).substring(pongs.length()).split("\0", -1);
      } while (replies.length < 21 && System.nanoTime() < deadline);
      assertEquals(21, replies.length, "one reply per PING, each ended with NUL");
      int over = 0;
      for (int i = 0; i < 20; i++) {
        if (replies[i].startsWith(refused)) {
          assertEquals(refused + i + "}", replies[i]);
          over++;
        } else {
          assertEquals("{\"msgid\":101,\"seq\":" + i + "}", replies[i]);
        }
      }
      assertTrue(over >= 10, over + " of 20 PINGs over the limit refused");
    }
    // one PING recognised from its bytes turns the heartbeat on: silent for the timeout, the
    // session is closed
    try (Socket socket = new Socket("127.0.0.1", listener.actualPort())) {
      ByteArrayOutputStream received = new ByteArrayOutputStream();
      Thread reader = rawReader(socket, received);
      socket.getOutputStream().write("{\"msgid\":100}\n".getBytes(StandardCharsets.UTF_8));
      socket.getOutputStream().flush();
      reader.join(TimeUnit.SECONDS.toMillis(10));
      assertEquals("{\"msgid\":101}\n", received(received));
      assertTrue(!reader.isAlive(), "the silent session was closed");
    }
  }

  private static void awaitLength(ByteArrayOutputStream bytes, int length) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (received(bytes).length() < length && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
  }

  private static String received(ByteArrayOutputStream bytes) {
    synchronized (bytes) {
      return bytes.toString(StandardCharsets.UTF_8);
    }
  }

  /** Copies every byte the socket receives until it is closed, on a daemon thread. */
  private static Thread rawReader(Socket socket, ByteArrayOutputStream into) {
    Thread reader = new Thread(() -> {
      try {
        InputStream in = socket.getInputStream();
        int b;
        while ((b = in.read()) >= 0) {
          synchronized (into) {
            into.write(b);
          }
        }
      } catch (IOException e) {
        // the socket is closed
      }
    }, "tcp-connection-test-raw-reader");
    reader.setDaemon(true);
    reader.start();
    return reader;
  }

  private static long heldBytes(Session session) throws Exception {
    CompletableFuture<Long> bytes = new CompletableFuture<>();
    session.context().runOnContext(v -> bytes.complete(session.heldBytes()));
    return bytes.get(5, TimeUnit.SECONDS);
  }

  private static void send(OutputStream out, JsonObject request) throws IOException {
    out.write((request.encode() + "\n").getBytes(StandardCharsets.UTF_8));
    out.flush();
  }

  /** The frames the socket receives, newline-terminated JSON, read by a daemon thread. */
  private static BlockingQueue<JsonObject> readReplies(Socket socket) {
    BlockingQueue<JsonObject> frames = new LinkedBlockingQueue<>();
    Thread reader = new Thread(() -> {
      try {
        InputStream in = socket.getInputStream();
        ByteArrayOutputStream frame = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) >= 0) {
          if (b == '\n' || b == 0) {
            if (frame.size() > 0) {
              frames.add(new JsonObject(frame.toString(StandardCharsets.UTF_8)));
              frame.reset();
            }
          } else {
            frame.write(b);
          }
        }
      } catch (IOException e) {
        // the socket is closed: no more frames
      }
    }, "tcp-connection-test-reader");
    reader.setDaemon(true);
    reader.start();
    return frames;
  }
}
