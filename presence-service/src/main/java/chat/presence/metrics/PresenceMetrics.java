package chat.presence.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntSupplier;

/**
 * The presence service's metrics. Code on a node's event loops reaches its node's instance
 * with {@link #current()}; elsewhere the calls go to a registry that keeps nothing.
 */
public final class PresenceMetrics {

  private static final Map<Vertx, PresenceMetrics> BY_NODE = new ConcurrentHashMap<>();
  private static final PresenceMetrics NONE = new PresenceMetrics(new CompositeMeterRegistry());

  private final Counter nodeLossSweeps;
  private final Counter sessionsReaped;
  private final MeterRegistry registry;
  private final List<IntSupplier> mirrors = new CopyOnWriteArrayList<>();
  private final AtomicInteger usersOnline = new AtomicInteger();

  private PresenceMetrics(MeterRegistry registry) {
    Gauge.builder("chat_presence_mirror_backlog", mirrors,
            list -> list.stream().mapToInt(IntSupplier::getAsInt).sum())
        .description("users whose user.state write the database has not answered yet")
        .register(registry);
    Gauge.builder("chat_presence_users_online", usersOnline, AtomicInteger::get)
        .description("users online in the map entries this member owns (sum over members:"
            + " the cluster)")
        .register(registry);
    nodeLossSweeps = Counter.builder("chat_node_loss_sweeps")
        .description("sweeps that removed the sessions of departed nodes").register(registry);
    sessionsReaped = Counter.builder("chat_sessions_reaped")
        .description("users whose sessions on departed nodes were removed").register(registry);
    this.registry = registry;
  }

  /** Routes the presence metrics of this Vert.x instance to the registry. */
  public static void register(Vertx vertx, MeterRegistry registry) {
    BY_NODE.put(vertx, new PresenceMetrics(registry));
  }

  public static PresenceMetrics current() {
    Context context = Vertx.currentContext();
    return context == null ? NONE : BY_NODE.getOrDefault(context.owner(), NONE);
  }

  /** Counts this writer's backlog in {@code chat_presence_mirror_backlog}; run the result to stop. */
  public Runnable mirror(IntSupplier backlog) {
    mirrors.add(backlog);
    return () -> mirrors.remove(backlog);
  }

  /** The latest count of users online in the entries this member owns. */
  public void usersOnline(int users) {
    usersOnline.set(users);
  }

  /** A sweep of departed nodes' sessions; {@code users} whose sessions it removed. */
  public void swept(int users) {
    if (users > 0) {
      nodeLossSweeps.increment();
      sessionsReaped.increment(users);
    }
  }

  /**
   * Repairs made by anti-entropy: {@code db_row} (user.state rows rewritten to match the
   * map), {@code stale_session} (sessions a node no longer holds, removed),
   * {@code missing_session} (live sessions the map lacked, put back).
   */
  public void repaired(String kind, int count) {
    if (count > 0) {
      registry.counter("chat_presence_repairs", "kind", kind).increment(count);
    }
  }
}
