package chat.presence;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The presence service's metrics. Code on a node's event loops reaches its node's instance
 * with {@link #current()}; elsewhere the calls go to a registry that keeps nothing.
 */
public final class PresenceMetrics {

  private static final Map<Vertx, PresenceMetrics> BY_NODE = new ConcurrentHashMap<>();
  private static final PresenceMetrics NONE = new PresenceMetrics(new CompositeMeterRegistry());

  private final Counter nodeLossSweeps;
  private final Counter sessionsReaped;
  private final Counter rowsRepaired;

  private PresenceMetrics(MeterRegistry registry) {
    nodeLossSweeps = Counter.builder("chat_node_loss_sweeps")
        .description("sweeps that removed the sessions of departed nodes").register(registry);
    sessionsReaped = Counter.builder("chat_sessions_reaped")
        .description("users whose sessions on departed nodes were removed").register(registry);
    rowsRepaired = Counter.builder("chat_presence_repairs")
        .description("user.state rows shown online without a live session, set offline")
        .register(registry);
  }

  /** Routes the presence metrics of this Vert.x instance to the registry. */
  public static void register(Vertx vertx, MeterRegistry registry) {
    BY_NODE.put(vertx, new PresenceMetrics(registry));
  }

  public static PresenceMetrics current() {
    Context context = Vertx.currentContext();
    return context == null ? NONE : BY_NODE.getOrDefault(context.owner(), NONE);
  }

  /** A sweep of departed nodes' sessions; {@code users} whose sessions it removed. */
  public void swept(int users) {
    if (users > 0) {
      nodeLossSweeps.increment();
      sessionsReaped.increment(users);
    }
  }

  public void repaired(int rows) {
    rowsRepaired.increment(rows);
  }
}
