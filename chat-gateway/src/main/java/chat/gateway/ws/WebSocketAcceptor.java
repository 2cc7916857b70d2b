package chat.gateway.ws;

import chat.gateway.GatewayConfig;
import chat.gateway.session.RequestHandler;
import chat.gateway.session.Session;
import chat.gateway.session.SessionEvents;
import chat.gateway.session.SessionRegistry;
import chat.gateway.session.UniqueIds;
import io.vertx.core.Vertx;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.ServerWebSocketHandshake;

/** Accepts WebSocket clients on {@code /ws} and gives each its session. */
public final class WebSocketAcceptor {

  public static final String PATH = "/ws";

  private final Vertx vertx;
  private final GatewayConfig config;
  private final SessionRegistry registry;
  private final UniqueIds ids;
  private final RequestHandler handler;
  private final SessionEvents events;

  public WebSocketAcceptor(Vertx vertx, GatewayConfig config, SessionRegistry registry,
                           UniqueIds ids, RequestHandler handler, SessionEvents events) {
    this.vertx = vertx;
    this.config = config;
    this.registry = registry;
    this.ids = ids;
    this.handler = handler;
    this.events = events;
  }

  /** Only {@code /ws} is upgraded. */
  public void handshake(ServerWebSocketHandshake handshake) {
    if (PATH.equals(handshake.path())) {
      handshake.accept();
    } else {
      handshake.reject(404);
    }
  }

  public void accept(ServerWebSocket socket) {
    WebSocketConnection connection = new WebSocketConnection(socket, config.maxFrameBytes());
    Session session = new Session(ids.next(), connection, vertx.getOrCreateContext(), config,
        registry, handler, events);
    connection.attach(session);
    session.opened();
  }
}
