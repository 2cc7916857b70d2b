package chat.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import chat.node.TestDatabase.FreshDatabase;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The web page in a real browser against a real two-node cluster: Debian's Chromium driven by
 * playwright-core (src/test/browser/chat-ui.mjs, see the steps there). The first browser
 * reaches the cluster through a front that fails over (as a load balancer would); its node
 * is killed with SIGKILL halfway and the page must come back by itself. Screenshots of every
 * step go to target/browser-screenshots.
 *
 * <p>Needs node and chromium (the CHROMIUM variable, default /usr/bin/chromium); the node
 * packages are installed with {@code npm ci} when missing. Without them the test is skipped
 * with a message on a developer machine, and fails in CI (CI set), where .ci/run installs them.
 */
@ExtendWith(TestDatabase.Extension.class)
@Timeout(360)
class BrowserTest {

  private static final Logger LOG = LoggerFactory.getLogger(BrowserTest.class);
  private static final Path SCRIPTS = Path.of("src", "test", "browser").toAbsolutePath();
  private static final Path SCREENSHOTS = Path.of("target", "browser-screenshots").toAbsolutePath();

  @Test
  void twoPeopleRegisterBefriendChatAndSurviveTheLossOfANode(FreshDatabase database)
      throws Exception {
    String chromium = System.getenv().getOrDefault("CHROMIUM", "/usr/bin/chromium");
    requireTools(chromium);

    String clusterName = "browser-" + UUID.randomUUID();
    int[] clusterPorts = {TestNodes.freePort(), TestNodes.freePort()};
    List<NodeProcess> nodes = new ArrayList<>();
    try {
      for (int i = 0; i < 2; i++) {
        nodes.add(NodeProcess.start(nodeSettings(database.url(), clusterName, clusterPorts, i)));
      }
      NodeProcess doomed = nodes.get(0);
      NodeProcess survivor = nodes.get(1);
      try (TcpProxy front = new TcpProxy("127.0.0.1",
          List.of(doomed.httpPort(), survivor.httpPort()))) {
        int exit = runScript(chromium, Map.of(
            "CHAT_PAGE_A", "http://127.0.0.1:" + front.port() + "/",
            "CHAT_PAGE_B", "http://127.0.0.1:" + survivor.httpPort() + "/"), doomed);
        assertEquals(0, exit, "browser steps failed; screenshots in " + SCREENSHOTS);
      }
    } finally {
      nodes.forEach(NodeProcess::close);
    }
  }

  private static Map<String, String> nodeSettings(String dbUrl, String clusterName,
                                                  int[] clusterPorts, int index) {
    Map<String, String> env = new HashMap<>(
        TestNodes.baseSettings(dbUrl, clusterName, clusterPorts[index]));
    env.put("CHAT_CLUSTER_MEMBERS", "127.0.0.1:" + clusterPorts[0] + ",127.0.0.1:" + clusterPorts[1]);
    env.put("CHAT_NODE_ID", "web" + index);
    env.put("CHAT_NODE_LOSS_S", "3");
    return env;
  }

  /** Runs the browser script; kills {@code doomed} when it asks. Returns its exit code. */
  private static int runScript(String chromium, Map<String, String> pages, NodeProcess doomed)
      throws IOException, InterruptedException {
    ProcessBuilder builder = new ProcessBuilder("node", "chat-ui.mjs")
        .directory(SCRIPTS.toFile())
        .redirectErrorStream(true);
    builder.environment().putAll(pages);
    builder.environment().put("CHROMIUM", chromium);
    builder.environment().put("SCREENSHOT_DIR", SCREENSHOTS.toString());
    clearScreenshots();
    Process script = builder.start();
    try (BufferedReader out = new BufferedReader(
             new InputStreamReader(script.getInputStream(), StandardCharsets.UTF_8));
         OutputStream in = script.getOutputStream()) {
      String line;
      while ((line = out.readLine()) != null) {
        if (line.equals("@@kill-a")) {
          LOG.info("browser: killing node {} (pid {})", "web0", doomed.pid());
          doomed.kill();
          in.write("killed\n".getBytes(StandardCharsets.UTF_8));
          in.flush();
        } else {
          LOG.info("browser: {}", line);
        }
      }
    } finally {
      if (!script.waitFor(60, TimeUnit.SECONDS)) {
        script.destroyForcibly();
      }
    }
    return script.exitValue();
  }

  /** Screenshots of an earlier run would mix with this one's. */
  private static void clearScreenshots() throws IOException {
    if (Files.isDirectory(SCREENSHOTS)) {
      try (var files = Files.list(SCREENSHOTS)) {
        for (Path file : (Iterable<Path>) files::iterator) {
          Files.deleteIfExists(file);
        }
      }
    }
  }

  /** Skips (developer machine) or fails (CI) when the browser or node is missing. */
  private static void requireTools(String chromium) throws InterruptedException {
    List<String> missing = new ArrayList<>();
    if (!Files.isExecutable(Path.of(chromium))) {
      missing.add(chromium + " (Debian: apt-get install chromium)");
    }
    if (!runs(SCRIPTS, "node", "--version")) {
      missing.add("node (Debian: apt-get install nodejs npm)");
    } else if (!Files.isDirectory(SCRIPTS.resolve("node_modules/playwright-core"))
        && !runs(SCRIPTS, "npm", "ci", "--no-audit", "--no-fund")) {
      missing.add("playwright-core (npm ci in " + SCRIPTS + " failed)");
    }
    if (missing.isEmpty()) {
      return;
    }
    String message = "browser test needs " + String.join(", ", missing);
    if (System.getenv("CI") != null) {
      fail(message + "; .ci/run installs them");
    }
    LOG.warn("SKIPPED: {}", message);
    Assumptions.abort("SKIPPED: " + message);
  }

  private static boolean runs(Path dir, String... command) throws InterruptedException {
    try {
      Process process = new ProcessBuilder(command).directory(dir.toFile())
          .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      if (!process.waitFor(180, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        return false;
      }
      return process.exitValue() == 0;
    } catch (IOException notThere) {
      return false;
    }
  }
}
