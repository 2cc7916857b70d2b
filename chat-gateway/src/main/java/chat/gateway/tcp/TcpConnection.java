package chat.gateway.tcp;

import chat.gateway.session.ClientConnection;
import chat.gateway.session.Session;
import chat.protocol.wire.JsonStreamFraming;
import chat.gateway.session.ChannelClose;
import io.netty.channel.Channel;
import io.netty.channel.socket.DuplexChannel;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetSocket;
import java.nio.charset.StandardCharsets;

/**
 * A TCP client: the byte stream is cut into JSON objects by {@link JsonStreamFraming}, and
 * each message written ends with the terminator the client used last.
 */
final class TcpConnection implements ClientConnection, JsonStreamFraming.Listener {

  /** How long a closing connection waits for the client to read a last message and close. */
  private static final long LINGER_MS = 2_000;

  private final Vertx vertx;
  private final NetSocket socket;
  private final JsonStreamFraming framing;
  private Session session;
  private boolean closing;

  TcpConnection(Vertx vertx, NetSocket socket, int maxFrameBytes) {
    this.vertx = vertx;
    this.socket = socket;
    this.framing = new JsonStreamFraming(maxFrameBytes, this);
  }

  void attach(Session session) {
    this.session = session;
    socket.handler(this::received);
    socket.closeHandler(v -> session.closed());
    socket.exceptionHandler(err -> {
      // The close handler follows; a reset tells the session the client did not read all.
      if (String.valueOf(err.getMessage()).contains("reset")) {
        session.peerReset();
      }
    });
  }

  private void received(Buffer chunk) {
    session.sawTraffic();
    if (!closing) {
      framing.handle(chunk);
    }
  }

  @Override
  public void onFrame(Buffer json) {
    JsonObject request;
    try {
      request = new JsonObject(json);
    } catch (DecodeException | ClassCastException e) {
      session.malformed("not a JSON object");
      return;
    }
    session.received(request, json.length());
  }

  @Override
  public void onMalformed(String reason) {
    session.malformed(reason);
  }

  @Override
  public void onTooLarge() {
    session.tooLarge();
  }

  @Override
  public String transport() {
    return "tcp";
  }

  @Override
  public String remoteAddress() {
    return String.valueOf(socket.remoteAddress());
  }

  @Override
  public Future<Void> write(String json) {
    byte[] text = json.getBytes(StandardCharsets.UTF_8);
    Buffer frame = Buffer.buffer(text.length + 1).appendBytes(text).appendByte(framing.lastTerminator());
    return socket.write(frame);
  }

  /**
   * Writes the last message, then half-closes (FIN) so the client reads it even while it is
   * still sending, and closes once the client has closed its side or after a short linger.
   * Closing at once with unread input would make the kernel send a reset that can destroy
   * the message before the client reads it. The future completes when the message is
   * written and the FIN sent.
   */
  @Override
  public Future<Void> writeAndClose(String json, short webSocketCloseCode) {
    closing = true;
    return write(json)
        .andThen(ar -> {
          Channel channel = channel();
          if (ar.succeeded() && channel instanceof DuplexChannel duplex && channel.isActive()) {
            duplex.shutdownOutput();
            vertx.setTimer(LINGER_MS, t -> socket.close());
          } else {
            socket.close();
          }
        });
  }

  @Override
  public Future<Void> close() {
    closing = true;
    return socket.close();
  }

  @Override
  public Future<Void> closeNow() {
    closing = true;
    ChannelClose.closeNow(channel());
    return Future.succeededFuture();
  }

  @Override
  public void pause() {
    socket.pause();
  }

  @Override
  public void resume() {
    socket.resume();
  }

  private Channel channel() {
    return ((NetSocketInternal) socket).channelHandlerContext().channel();
  }
}
