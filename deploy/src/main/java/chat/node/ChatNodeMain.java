package chat.node;

import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@code java -jar chat-node.jar}: starts one node configured by CHAT_* variables. */
public final class ChatNodeMain {

  private static final Logger LOG = LoggerFactory.getLogger(ChatNodeMain.class);
  private static final long STOP_TIMEOUT_S = 20;

  private ChatNodeMain() {
  }

  public static void main(String[] args) {
    System.setProperty("hazelcast.logging.type", "slf4j");
    System.setProperty("vertx.logger-delegate-factory-class-name",
        "io.vertx.core.logging.SLF4JLogDelegateFactory");
    ChatNode node;
    try {
      node = ChatNode.start(Settings.fromEnvironment());
    } catch (RuntimeException e) {
      LOG.error("node failed to start: {}", e.getMessage(), e);
      System.exit(1);
      return;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      LOG.info("stop signal received: draining node {}", node.nodeName());
      try {
        node.stop().toCompletionStage().toCompletableFuture().get(STOP_TIMEOUT_S, TimeUnit.SECONDS);
      } catch (Exception e) {
        LOG.warn("node did not stop cleanly within {} s: {}", STOP_TIMEOUT_S, e.toString());
      }
    }, "chat-node-stop"));
  }
}
