package chat.gateway.tcp;

import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.net.impl.VertxEventLoopGroup;
import java.util.HashMap;
import java.util.Map;

/**
 * The Vert.x event loops that serve TCP clients, {@code count} of them, picked the way the
 * deployment of that many verticles picks them, and one context on each: the sessions of the
 * connections of a loop run on its context.
 */
final class TcpEventLoops {

  private final VertxEventLoopGroup group = new VertxEventLoopGroup();
  private final Map<EventLoop, ContextInternal> contexts;

  /** The loops: {@code first} (the listener's own), then the next ones of Vert.x's group. */
  TcpEventLoops(VertxInternal vertx, EventLoop first, int count) {
    Map<EventLoop, ContextInternal> byLoop = new HashMap<>();
    EventLoop loop = first;
    for (int i = 0; i < count; i++) {
      if (i > 0) {
        loop = vertx.nettyEventLoopGroup().next();
      }
      if (!byLoop.containsKey(loop)) {
        group.addWorker(loop);
        byLoop.put(loop, vertx.contextBuilder().withEventLoop(loop).build());
      }
    }
    contexts = Map.copyOf(byLoop);
  }

  /** The loops, as the child group of a server bootstrap (connections spread round-robin). */
  EventLoopGroup group() {
    return group;
  }

  /** The context on the given loop, one of {@link #group()}'s. */
  ContextInternal contextOf(EventLoop loop) {
    return contexts.get(loop);
  }
}
