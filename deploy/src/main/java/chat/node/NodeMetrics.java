package chat.node;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmInfoMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.netty4.NettyAllocatorMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.internal.PlatformDependent;
import io.prometheus.metrics.core.metrics.Info;
import io.vertx.core.spi.cluster.ClusterManager;
import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/**
 * The node's metrics registry: every series carries {@code node} (CHAT_NODE_ID); JVM, process
 * and Netty allocator series, the cluster size and the build are bound here, the services add
 * their own.
 */
final class NodeMetrics {

  private NodeMetrics() {
  }

  static PrometheusMeterRegistry create(String nodeName) {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    registry.config().commonTags("node", nodeName);
    new ClassLoaderMetrics().bindTo(registry);
    new JvmMemoryMetrics().bindTo(registry);
    new JvmGcMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new JvmInfoMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    new FileDescriptorMetrics().bindTo(registry);
    new NettyAllocatorMetrics(PooledByteBufAllocator.DEFAULT).bindTo(registry);
    if (ByteBufAllocator.DEFAULT != PooledByteBufAllocator.DEFAULT
        && ByteBufAllocator.DEFAULT instanceof ByteBufAllocatorMetricProvider provider) {
      new NettyAllocatorMetrics(provider).bindTo(registry);
    }
    Gauge.builder("netty_direct_memory_used", PlatformDependent::usedDirectMemory)
        .baseUnit("bytes").description("direct memory Netty has reserved (-1 when not counted)")
        .register(registry);
    // An info metric (chat_build_info 1 with labels): Micrometer would strip the _info suffix.
    Info.builder().name("chat_build").help("the build this node runs")
        .labelNames("node", "version", "java")
        .register(registry.getPrometheusRegistry())
        .setLabelValues(nodeName, version(), System.getProperty("java.runtime.version", "unknown"));
    return registry;
  }

  /** The number of cluster members this node sees. */
  static void bindCluster(PrometheusMeterRegistry registry, ClusterManager cluster) {
    Gauge.builder("chat_cluster_members", cluster, c -> c.getNodes().size())
        .description("cluster members this node sees").register(registry);
  }

  private static String version() {
    try (InputStream in = NodeMetrics.class.getResourceAsStream("/chat-node-build.properties")) {
      if (in == null) {
        return "unknown";
      }
      Properties properties = new Properties();
      properties.load(in);
      return properties.getProperty("version", "unknown");
    } catch (IOException e) {
      return "unknown";
    }
  }
}
