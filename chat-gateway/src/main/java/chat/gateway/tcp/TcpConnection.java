package chat.gateway.tcp;

import chat.gateway.session.ChannelClose;
import chat.gateway.session.ClientConnection;
import chat.gateway.session.Session;
import chat.protocol.wire.JsonStreamFraming;
import chat.protocol.wire.JsonText;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.PromiseInternal;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A TCP client, as the last handler of its Netty channel: the byte stream is cut into JSON
 * objects by {@link JsonStreamFraming}, and each message written ends with the terminator the
 * client used last. The session starts once the channel is active (after the TLS handshake on
 * a TLS listener). Every call into the session runs on the session's context, whose event loop
 * is the channel's; writes go straight to the channel, flushed at once or, while a read is
 * being handled, at its end.
 */
final class TcpConnection extends ChannelInboundHandlerAdapter
    implements ClientConnection, JsonStreamFraming.Listener {

  private static final Logger LOG = LoggerFactory.getLogger(TcpConnection.class);
  /** How long a closing connection waits for the client to read a last message and close. */
  static final long LINGER_MS = 2_000;

  private final ContextInternal context;
  private final BiFunction<ClientConnection, Context, Session> sessions;
  private final JsonStreamFraming framing;
  private ChannelHandlerContext ctx;
  private Session session;
  private boolean closing;
  private boolean reading;
  private boolean needsFlush;

  /**
   * @param context the context of the channel's event loop, on which the session runs
   * @param sessions makes the session of a connection
   */
  TcpConnection(ContextInternal context, int maxFrameBytes,
                BiFunction<ClientConnection, Context, Session> sessions) {
    this.context = context;
    this.sessions = sessions;
    this.framing = new JsonStreamFraming(maxFrameBytes, this);
  }

  // ---- the channel's events, on its event loop ----

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    if (ctx.pipeline().get(SslHandler.class) == null) {
      open();
    }
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
    if (event instanceof SslHandshakeCompletionEvent handshake && handshake.isSuccess()) {
      open();
    }
  }

  private void open() {
    context.dispatch(v -> {
      session = sessions.apply(this, context);
      session.opened();
    });
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    ByteBuf bytes = (ByteBuf) msg;
    try {
      if (session != null) {
        reading = true;
        context.dispatch(bytes, this::received);
      }
    } finally {
      bytes.release();
    }
  }

  /** The bytes are the caller's: the framer copies what it keeps. */
  private void received(ByteBuf bytes) {
    session.sawTraffic();
    if (!closing) {
      framing.handle(BufferInternal.buffer(bytes.slice()));
    }
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    reading = false;
    if (needsFlush) {
      needsFlush = false;
      ctx.flush();
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (session != null) {
      context.dispatch(v -> session.closed());
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    // The close follows; a reset tells the session the client did not read all.
    if (session != null && String.valueOf(cause.getMessage()).contains("reset")) {
      context.dispatch(v -> session.peerReset());
    }
    LOG.debug("connection {} failed: {}", ctx.channel(), cause.toString());
    ctx.close();
  }

  // ---- the framer's output ----

  @Override
  public void onFrame(Buffer json) {
    JsonObject request;
    try {
      request = JsonText.parseObject(json);
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

  // ---- the session's side, on the same event loop ----

  @Override
  public String transport() {
    return "tcp";
  }

  @Override
  public String remoteAddress() {
    SocketAddress address = ctx.channel().remoteAddress();
    return address instanceof InetSocketAddress inet
        ? inet.getHostString() + ":" + inet.getPort()
        : String.valueOf(address);
  }

  @Override
  public Future<Void> write(Buffer json) {
    ByteBuf frame = ctx.alloc().buffer(json.length() + 1);
    frame.writeBytes(((BufferInternal) json).getByteBuf());
    frame.writeByte(framing.lastTerminator());
    PromiseInternal<Void> written = context.promise();
    if (reading && ctx.executor().inEventLoop()) {
      needsFlush = true;
      ctx.write(frame, ctx.newPromise().addListener(written));
    } else {
      ctx.writeAndFlush(frame, ctx.newPromise().addListener(written));
    }
    return written.future();
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
    return write(Buffer.buffer(json))
        .andThen(ar -> {
          Channel channel = ctx.channel();
          if (ar.succeeded() && channel instanceof DuplexChannel duplex && channel.isActive()) {
            duplex.shutdownOutput();
            channel.eventLoop().schedule(() -> {
              channel.close();
            }, LINGER_MS, TimeUnit.MILLISECONDS);
          } else {
            channel.close();
          }
        });
  }

  /** Closes once what was written before is flushed to the socket. */
  @Override
  public Future<Void> close() {
    closing = true;
    PromiseInternal<Void> closed = context.promise();
    ctx.writeAndFlush(Unpooled.EMPTY_BUFFER)
        .addListener(flushed -> ctx.close(ctx.newPromise().addListener(closed)));
    return closed.future();
  }

  @Override
  public Future<Void> closeNow() {
    closing = true;
    ChannelClose.closeNow(ctx.channel());
    return Future.succeededFuture();
  }

  @Override
  public void pause() {
    ctx.channel().config().setAutoRead(false);
  }

  @Override
  public void resume() {
    ctx.channel().config().setAutoRead(true);
  }
}
