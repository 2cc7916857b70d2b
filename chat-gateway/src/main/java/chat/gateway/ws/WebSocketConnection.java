package chat.gateway.ws;

import chat.gateway.session.ClientConnection;
import chat.gateway.session.Session;
import chat.protocol.wire.ErrorCode;
import chat.protocol.wire.JsonText;
import chat.protocol.wire.Replies;
import chat.gateway.session.ChannelClose;
import io.netty.channel.Channel;
import io.vertx.core.Future;
import io.vertx.core.internal.http.WebSocketInternal;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;

/** A WebSocket client: one JSON object per text frame. */
final class WebSocketConnection implements ClientConnection {

  private final ServerWebSocket socket;
  private final int maxFrameBytes;
  private Session session;

  WebSocketConnection(ServerWebSocket socket, int maxFrameBytes) {
    this.socket = socket;
    this.maxFrameBytes = maxFrameBytes;
  }

  void attach(Session session) {
    this.session = session;
    socket.textMessageHandler(this::onText);
    socket.binaryMessageHandler(this::onBinary);
    socket.closeHandler(v -> session.closed());
    socket.exceptionHandler(err -> {
      // The close handler follows.
    });
  }

  private void onText(String text) {
    session.sawTraffic();
    if (text.length() > maxFrameBytes / 4
        && text.getBytes(StandardCharsets.UTF_8).length > maxFrameBytes) {
      session.tooLarge();
      return;
    }
    JsonObject request;
    try {
      request = JsonText.parseObject(text);
    } catch (DecodeException | ClassCastException e) {
      session.malformed("not a JSON object");
      return;
    }
    session.received(request, text.length());
  }

  private void onBinary(Buffer data) {
    session.sawTraffic();
    session.send(Replies.error(ErrorCode.BAD_REQUEST,
        "binary frames are not supported: send JSON as text", null, null));
  }

  @Override
  public String transport() {
    return "ws";
  }

  @Override
  public String remoteAddress() {
    return String.valueOf(socket.remoteAddress());
  }

  @Override
  public Future<Void> write(Buffer json) {
    return socket.writeTextMessage(json.toString(StandardCharsets.UTF_8));
  }

  @Override
  public Future<Void> writeAndClose(String json, short webSocketCloseCode) {
    return socket.writeTextMessage(json).andThen(ar -> socket.close(webSocketCloseCode));
  }

  @Override
  public Future<Void> close() {
    return socket.close();
  }

  /** The TCP connection under the WebSocket is closed at once: no close frame, no flush. */
  @Override
  public Future<Void> closeNow() {
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
    return ((WebSocketInternal) socket).channelHandlerContext().channel();
  }
}
