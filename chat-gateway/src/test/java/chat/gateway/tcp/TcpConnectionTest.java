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
