package chat.gateway.tcp;

import chat.gateway.GatewayConfig;
import chat.gateway.TlsOptions;
import chat.gateway.session.RequestHandler;
import chat.gateway.session.Session;
import chat.gateway.session.SessionEvents;
import chat.gateway.session.UniqueIds;
import chat.gateway.session.SessionRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Accepts TCP clients (the classic protocol) and gives each its session. */
public final class TcpGatewayVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(TcpGatewayVerticle.class);

  private final GatewayConfig config;
  private final SessionRegistry registry;
  private final UniqueIds ids;
  private final RequestHandler handler;
  private final SessionEvents events;
  private NetServer server;

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
    NetServerOptions options = TlsOptions.apply(new NetServerOptions()
        .setHost(config.bindHost())
        .setPort(config.tcpPort())
        .setTcpNoDelay(true)
        .setTcpKeepAlive(true), config);
    server = vertx.createNetServer(options).connectHandler(this::accept);
    return server.listen().onSuccess(s ->
        LOG.info("TCP gateway listening on {}:{}{}", config.bindHost(), s.actualPort(),
            config.tls() ? " (TLS only)" : ""));
  }

  /** The port actually bound (useful when configured as 0). */
  public int actualPort() {
    return server.actualPort();
  }

  private void accept(NetSocket socket) {
    KeepAlive.apply(socket, config);
    TcpConnection connection = new TcpConnection(vertx, socket, config.maxFrameBytes());
    Session session = new Session(ids.next(), connection, vertx.getOrCreateContext(), config,
        registry, handler, events);
    connection.attach(session);
    session.opened();
  }
}
