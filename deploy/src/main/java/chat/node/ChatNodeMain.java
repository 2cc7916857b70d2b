package chat.node;

import ch.qos.logback.classic.LoggerContext;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@code java -jar chat-node.jar}: starts one node configured by CHAT_* variables. */
public final class ChatNodeMain {

  private static final Logger LOG = LoggerFactory.getLogger(ChatNodeMain.class);
  private static final long STOP_TIMEOUT_S = 20;

  private ChatNodeMain() {
  }

  public static void main(String[] args) {
    // With fewer than two processors the common fork-join pool starts a thread per task, and
    // libraries complete their futures there (Hazelcast does): give it two at least.
    if (System.getProperty("java.util.concurrent.ForkJoinPool.common.parallelism") == null) {
      System.setProperty("java.util.concurrent.ForkJoinPool.common.parallelism",
          String.valueOf(Math.max(2, Runtime.getRuntime().availableProcessors())));
    }
    System.setProperty("hazelcast.logging.type", "slf4j");
    System.setProperty("vertx.logger-delegate-factory-class-name",
        "io.vertx.core.logging.SLF4JLogDelegateFactory");
    Settings settings = Settings.fromEnvironment();
    nameInLogs(settings.get("CHAT_NODE_ID", "-"));
    AtomicReference<ChatNode> current = new AtomicReference<>();
    try {
      current.set(ChatNode.start(settings));
      nameInLogs(current.get().nodeName());
    } catch (Exception e) {
      // also the checked ones a future rethrows as they are (a port taken: Netty's bind error),
      // which would otherwise leave a process that never becomes ready
      LOG.error("node failed to start: {}", e.getMessage(), e);
      System.exit(1);
      return;
    }
    watch(current, settings);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      ChatNode node = current.get();
      LOG.info("stop signal received: draining node {}", node.nodeName());
      try {
        node.stop().toCompletionStage().toCompletableFuture().get(STOP_TIMEOUT_S, TimeUnit.SECONDS);
      } catch (Exception e) {
        LOG.warn("node did not stop cleanly within {} s: {}", STOP_TIMEOUT_S, e.toString());
      }
    }, "chat-node-stop"));
  }

  /** Every log line of this process carries the node's name (context property "node"). */
  private static void nameInLogs(String nodeName) {
    if (LoggerFactory.getILoggerFactory() instanceof LoggerContext logs) {
      logs.putProperty("node", nodeName);
    }
  }

  /**
   * A node the cluster declared dead (it was frozen), or one on the minority side of a cut
   * (CHAT_CLUSTER_QUORUM), comes back as a new member.
   */
  private static void watch(AtomicReference<ChatNode> current, Settings settings) {
    long nodeLoss = EnvironmentTable.nodeLossSeconds(settings);
    ChatNode watched = current.get();
    AtomicBoolean restarting = new AtomicBoolean();
    Runnable rejoin = () -> {
      if (!restarting.compareAndSet(false, true)) {
        return;
      }
      Thread restart = new Thread(() -> {
        synchronized (current) {
          try {
            current.set(current.get().restartAsNewMember(settings));
            watch(current, settings);
          } catch (Exception e) {
            LOG.error("node could not rejoin the cluster: {}", e.getMessage(), e);
            System.exit(1);
          }
        }
      }, "chat-node-rejoin");
      // Not a daemon (the watchers that call this are): between leaving and rejoining no
      // other thread keeps the process alive.
      restart.setDaemon(false);
      restart.start();
    };
    watched.onDeclaredDead(nodeLoss, rejoin);
    watched.onQuorumLost(rejoin);
  }
}
