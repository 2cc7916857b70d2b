package chat.node;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A chat node in its own JVM, started exactly as an operator would start the jar (same main
 * class, same environment variables), so a test can kill it with SIGKILL, freeze it with
 * SIGSTOP or stop it with SIGTERM.
 */
final class NodeProcess implements AutoCloseable {

  private static final Pattern READY =
      Pattern.compile("ready: roles .*TCP port (\\d+), HTTP port (\\d+)");

  private final Process process;
  private final List<String> output = new ArrayList<>();
  /**
   * System property naming the packaged node jar: set, nodes run from it ({@code java -jar}),
   * as users run them; unset, from the test class path.
   */
  static final String PACKAGED_JAR = "chat.node.jar";

  private final CountDownLatch exited = new CountDownLatch(1);
  private volatile int tcpPort;
  private volatile int httpPort;
  private final java.util.concurrent.atomic.AtomicInteger readyCount =
      new java.util.concurrent.atomic.AtomicInteger();

  private NodeProcess(Map<String, String> env) throws IOException {
    this(env, List.of(), List.of());
  }

  /**
   * A node process whose command line starts with {@code prefix} (e.g. a tool that changes
   * its group id) and whose JVM gets {@code jvmArgs} as well.
   */
  private NodeProcess(Map<String, String> env, List<String> prefix, List<String> jvmArgs)
      throws IOException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> command = new ArrayList<>(prefix);
    command.add(java);
    command.addAll(jvmArgs);
    command.addAll(List.of("-Xmx256m",
        "--add-opens", "java.base/java.lang=ALL-UNNAMED",
        "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
        "--add-opens", "java.management/sun.management=ALL-UNNAMED",
        "--add-opens", "jdk.management/com.sun.management.internal=ALL-UNNAMED",
        "--add-exports", "java.base/jdk.internal.ref=ALL-UNNAMED"));
    String jar = System.getProperty(PACKAGED_JAR);
    if (jar != null && !jar.isBlank()) {
      command.addAll(List.of("-jar", jar));
    } else {
      command.addAll(List.of("-cp", System.getProperty("java.class.path"),
          ChatNodeMain.class.getName()));
    }
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().keySet().removeIf(k -> k.startsWith("CHAT_"));
    builder.environment().putAll(env);
    builder.environment().put("CHAT_LOG_LEVEL", "INFO");
    builder.environment().put("CHAT_TEST_LOG_LEVEL", "INFO");
    this.process = builder.start();
    Thread reader = new Thread(this::readOutput, "node-output-" + process.pid());
    reader.setDaemon(true);
    reader.start();
  }

  /** Starts a node process and waits until it reports ready. */
  static NodeProcess start(Map<String, String> env) {
    try {
      NodeProcess node = new NodeProcess(env);
      try {
        node.awaitReady(1, java.time.Duration.ofSeconds(90));
      } catch (IllegalStateException e) {
        node.process.destroyForcibly();
        throw e;
      }
      return node;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Starts a node process without waiting for it (nodes that wait for a quorum). */
  static NodeProcess launch(Map<String, String> env, List<String> prefix, List<String> jvmArgs) {
    try {
      return new NodeProcess(env, prefix, jvmArgs);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Waits until the node has reported ready {@code times} times in all (it restarts itself). */
  void awaitReady(int times, java.time.Duration within) {
    long deadline = System.nanoTime() + within.toNanos();
    while (readyCount.get() < times) {
      if (System.nanoTime() > deadline || !process.isAlive()) {
        throw new IllegalStateException("node not ready (" + times + ") within " + within
            + ":\n" + log());
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
  }

  /** How many times the node has reported ready (once more after each rejoin). */
  int readyCount() {
    return readyCount.get();
  }

  boolean isAlive() {
    return process.isAlive();
  }

  /** kill -TERM without waiting. */
  void sigterm() {
    signal("TERM");
  }

  /** Waits for the process to exit; its exit code. */
  int awaitExit(java.time.Duration within) {
    return awaitExit((int) Math.max(1, within.toSeconds()));
  }

  int tcpPort() {
    return tcpPort;
  }

  int httpPort() {
    return httpPort;
  }

  long pid() {
    return process.pid();
  }

  /** kill -9. */
  void kill() {
    signal("KILL");
    awaitExit(30);
  }

  /** kill -TERM, and wait for the node to finish its graceful stop. */
  int terminate() {
    signal("TERM");
    return awaitExit(60);
  }

  /** kill -STOP: the process freezes with its sockets open. */
  void freeze() {
    signal("STOP");
  }

  void thaw() {
    signal("CONT");
  }

  String log() {
    synchronized (output) {
      return String.join("\n", output);
    }
  }

  private void signal(String name) {
    try {
      Process kill = new ProcessBuilder("kill", "-" + name, String.valueOf(process.pid()))
          .inheritIO().start();
      kill.waitFor(10, TimeUnit.SECONDS);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private int awaitExit(int seconds) {
    try {
      if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
        throw new IllegalStateException("node did not exit within " + seconds + " s:\n" + log());
      }
      exited.countDown();
      return process.exitValue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private void readOutput() {
    try (BufferedReader in = new BufferedReader(
        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = in.readLine()) != null) {
        synchronized (output) {
          output.add(line);
        }
        Matcher m = READY.matcher(line);
        if (m.find()) {
          tcpPort = Integer.parseInt(m.group(1));
          httpPort = Integer.parseInt(m.group(2));
          readyCount.incrementAndGet();
        }
      }
    } catch (IOException ignored) {
      // the process is gone
    }
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      signal("CONT");
      process.destroyForcibly();
      try {
        process.waitFor(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
