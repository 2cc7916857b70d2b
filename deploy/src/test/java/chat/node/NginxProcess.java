package chat.node;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * nginx running the project's own deploy/nginx/nginx.conf, with its ports, upstream servers
 * and file paths rewritten for a test: the configuration operators use is the one tested.
 */
final class NginxProcess implements AutoCloseable {

  private static final Path CONF = Path.of("nginx", "nginx.conf");
  private static final Path STREAM_MODULE = Path.of("/usr/lib/nginx/modules/ngx_stream_module.so");

  final int tcpPort;
  final int httpPort;
  private final Process process;
  private final Path dir;

  private NginxProcess(Process process, Path dir, int tcpPort, int httpPort) {
    this.process = process;
    this.dir = dir;
    this.tcpPort = tcpPort;
    this.httpPort = httpPort;
  }

  /**
   * The nginx binary. When there is none, the test is skipped with the reason, except in CI
   * (variable {@code CI} set), where .ci/run installs it and its absence is a failure.
   */
  static String binary() {
    for (String candidate : List.of("/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx")) {
      if (Files.isExecutable(Path.of(candidate))) {
        if (!Files.exists(STREAM_MODULE)) {
          missing("nginx is installed without its stream module (Debian: apt-get install "
              + "libnginx-mod-stream)");
        }
        return candidate;
      }
    }
    missing("nginx is not installed (Debian: apt-get install nginx libnginx-mod-stream)");
    return null;
  }

  private static void missing(String what) {
    if (System.getenv("CI") != null) {
      Assertions.fail(what + "; .ci/run installs it");
    }
    Assumptions.abort(what + ": the nginx end-to-end test is skipped");
  }

  /** Starts nginx in front of nodes with these TCP and HTTP ports. */
  static NginxProcess start(Path dir, List<Integer> nodeTcpPorts, List<Integer> nodeHttpPorts)
      throws IOException {
    String nginx = binary();
    int tcpPort = TestNodes.freePort();
    int httpPort = TestNodes.freePort();
    String conf = Files.readString(CONF)
        .replace("pid /run/nginx-chat.pid;", "pid " + dir.resolve("nginx.pid") + ";")
        .replaceAll("/var/log/nginx/", Matcher.quoteReplacement(dir.toString() + "/"))
        .replace("listen 6000 ", "listen 127.0.0.1:" + tcpPort + " ")
        .replace("listen 8080 ", "listen 127.0.0.1:" + httpPort + " ")
        .replace("worker_processes auto;", "worker_processes 1;")
        .replace("worker_connections 16384;", "worker_connections 1024;")
        .replace("worker_rlimit_nofile 40000;", "");
    conf = servers(conf, "chat_tcp", nodeTcpPorts);
    conf = servers(conf, "chat_http", nodeHttpPorts);
    Path file = dir.resolve("nginx.conf");
    Files.writeString(file, conf);
    Process process = new ProcessBuilder(nginx, "-p", dir.toString(), "-c", file.toString(),
        "-g", "daemon off;").redirectErrorStream(true)
        .redirectOutput(dir.resolve("nginx.out").toFile()).start();
    NginxProcess started = new NginxProcess(process, dir, tcpPort, httpPort);
    Eventually.within(Duration.ofSeconds(10), () -> {
      if (!process.isAlive()) {
        throw new AssertionError("nginx exited: " + started.output());
      }
      try (Socket probe = new Socket("127.0.0.1", httpPort)) {
        probe.getOutputStream().flush();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });
    return started;
  }

  /** The upstream block's "server" lines replaced by one per node. */
  private static String servers(String conf, String upstream, List<Integer> ports) {
    int start = conf.indexOf("upstream " + upstream + " {");
    int end = conf.indexOf('}', start);
    String block = conf.substring(start, end);
    String first = block.substring(block.indexOf("        server 127.0.0.1:"));
    String options = first.substring(first.indexOf(' ', "        server 127.0.0.1:".length()), first.indexOf(";"));
    StringBuilder lines = new StringBuilder();
    for (int port : ports) {
      lines.append("        server 127.0.0.1:").append(port).append(options).append(";\n");
    }
    String rewritten = block.replaceAll("(?m)^\\s*server 127\\.0\\.0\\.1:\\d+[^\\n]*\\n", "");
    rewritten = rewritten.replace("least_conn;\n", "least_conn;\n" + lines);
    return conf.substring(0, start) + rewritten + conf.substring(end);
  }

  String output() {
    try {
      Path out = dir.resolve("nginx.out");
      Path errors = dir.resolve("chat-error.log");
      return (Files.exists(out) ? Files.readString(out) : "")
          + (Files.exists(errors) ? Files.readString(errors) : "");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
  }
}
