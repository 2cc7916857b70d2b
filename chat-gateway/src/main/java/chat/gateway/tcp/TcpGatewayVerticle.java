package chat.gateway.tcp;

import chat.gateway.GatewayConfig;
import chat.gateway.TlsOptions;
import chat.gateway.session.ClientConnection;
import chat.gateway.session.RequestHandler;
import chat.gateway.session.Session;
import chat.gateway.session.SessionEvents;
import chat.gateway.session.SessionRegistry;
import chat.gateway.session.UniqueIds;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.PromiseInternal;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.net.NetServerOptions;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Accepts TCP clients (the classic protocol) and gives each its session. The listener is
 * Netty's own server channel on Vert.x's event loops ({@code tcpInstances} of them, connections
 * spread round-robin), with one small handler per connection ({@link TcpConnection}): a TCP
 * client costs its channel and its session, and no Vert.x socket with its write queue.
 */
public final class TcpGatewayVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(TcpGatewayVerticle.class);

  private final GatewayConfig config;
  private final SessionRegistry registry;
  private final UniqueIds ids;
  private final RequestHandler handler;
  private final SessionEvents events;
  private final BiFunction<ClientConnection, Context, Session> sessions = this::newSession;
  private ChannelGroup clients;
  private Channel server;

  public TcpGatewayVerticle(GatewayConfig config, SessionRegistry registry, UniqueIds ids,
                            RequestHandler handler, SessionEvents events) {
    this.config = config;
    this.registry = registry;
    this.ids = ids;
    this.handler = handler;
    this.events = events;
  }

  @Override
  public Future<?> start() {
    VertxInternal vertxInternal = (VertxInternal) vertx;
    ContextInternal own = (ContextInternal) context;
    TcpEventLoops loops = new TcpEventLoops(vertxInternal, own.nettyEventLoop(),
        config.tcpInstances());
    SslContext tls = config.tls() ? TlsOptions.sslContext(config, vertx) : null;
    clients = new DefaultChannelGroup("tcp-clients", own.nettyEventLoop());
    ServerBootstrap bootstrap = new ServerBootstrap()
        .group(vertxInternal.acceptorEventLoopGroup(), loops.group())
        .channelFactory(vertxInternal.transport().serverChannelFactory(false))
        .childHandler(new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel channel) {
            clients.add(channel);
            KeepAlive.apply(channel, config);
            if (tls != null) {
              SslHandler ssl = tls.newHandler(channel.alloc());
              ssl.setHandshakeTimeout(TlsOptions.HANDSHAKE_TIMEOUT_SECONDS, TimeUnit.SECONDS);
              channel.pipeline().addLast(ssl);
            }
            channel.pipeline().addLast(new TcpConnection(loops.contextOf(channel.eventLoop()),
                config.maxFrameBytes(), sessions));
          }
        });
    vertxInternal.transport().configure(new NetServerOptions()
        .setTcpNoDelay(true)
        .setTcpKeepAlive(true), false, bootstrap);
    PromiseInternal<Void> bound = own.promise();
    ChannelFuture binding = bootstrap.bind(new InetSocketAddress(config.bindHost(),
        config.tcpPort()));
    server = binding.channel();
    binding.addListener(bound);
    return bound.future().onSuccess(v ->
        LOG.info("TCP gateway listening on {}:{}{}", config.bindHost(), actualPort(),
            config.tls() ? " (TLS only)" : ""));
  }

  /** Stops accepting, then closes the connections still open. */
  @Override
  public Future<?> stop() {
    if (server == null) {
      return Future.succeededFuture();
    }
    PromiseInternal<Void> closed = ((ContextInternal) context).promise();
    server.close().addListener(f -> clients.close().addListener(closed));
    return closed.future();
  }

  /** The port actually bound (useful when configured as 0). */
  public int actualPort() {
    return ((InetSocketAddress) server.localAddress()).getPort();
  }

  private Session newSession(ClientConnection connection, Context sessionContext) {
    return new Session(ids.next(), connection, sessionContext, config, registry, handler,
        events);
  }
}
