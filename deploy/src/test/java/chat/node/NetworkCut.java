package chat.node;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Cuts one node process off from the others on loopback with iptables (as root), the way a
 * network partition does: packets are dropped, nothing is refused or reset.
 *
 * <p>The isolated node runs under its own group id (its command starts with {@code setpriv
 * --regid}), so its outgoing connections to the others' cluster ports can be told apart from
 * the others' connections to one another. Three rules, each tagged with a comment unique to
 * this cut: nothing to or from the isolated node's cluster ports, and nothing from its group
 * to the others' cluster ports. Its client port and the database stay reachable.
 */
final class NetworkCut implements AutoCloseable {

  private final int gid = 40_000 + ThreadLocalRandom.current().nextInt(20_000);
  private final String tag = "chat-test-cut-" + UUID.randomUUID().toString().substring(0, 8);
  private final List<List<String>> rules = new ArrayList<>();

  /**
   * Null if this machine cannot do it (not root, no iptables, or a kernel without the owner,
   * multiport or comment matches); the reason is in {@link #unavailableReason()}.
   */
  static String unavailableReason() {
    try {
      String probeTag = "chat-test-probe-" + UUID.randomUUID().toString().substring(0, 8);
      List<String> rule = List.of("OUTPUT", "-o", "lo", "-p", "tcp", "-m", "owner",
          "--gid-owner", "54321", "-m", "multiport", "--dports", "9", "-m", "comment",
          "--comment", probeTag, "-j", "DROP");
      String added = iptables("-I", rule);
      if (added != null) {
        return "iptables refused a rule: " + added;
      }
      String deleted = iptables("-D", rule);
      return deleted == null ? null : "iptables could not delete its probe rule: " + deleted;
    } catch (IOException e) {
      return "iptables not runnable: " + e.getMessage();
    }
  }

  /** The command prefix that runs the isolated node under this cut's group id. */
  List<String> prefix() {
    return List.of("setpriv", "--regid=" + gid, "--clear-groups", "--");
  }

  /** Drops every packet between the isolated node's ports and the others' ports. */
  synchronized void cut(List<Integer> isolatedPorts, List<Integer> otherPorts) {
    String isolated = ports(isolatedPorts);
    String others = ports(otherPorts);
    add(List.of("OUTPUT", "-o", "lo", "-p", "tcp", "-m", "multiport", "--dports", isolated,
        "-m", "comment", "--comment", tag, "-j", "DROP"));
    add(List.of("OUTPUT", "-o", "lo", "-p", "tcp", "-m", "multiport", "--sports", isolated,
        "-m", "comment", "--comment", tag, "-j", "DROP"));
    add(List.of("OUTPUT", "-o", "lo", "-p", "tcp", "-m", "owner", "--gid-owner",
        String.valueOf(gid), "-m", "multiport", "--dports", others, "-m", "comment",
        "--comment", tag, "-j", "DROP"));
  }

  /** Removes the rules: packets flow again. */
  synchronized void heal() {
    for (List<String> rule : rules) {
      try {
        iptables("-D", rule);
      } catch (IOException e) {
        throw new IllegalStateException("could not remove rule " + rule, e);
      }
    }
    rules.clear();
  }

  @Override
  public void close() {
    heal();
  }

  private void add(List<String> rule) {
    try {
      String error = iptables("-I", rule);
      if (error != null) {
        throw new IllegalStateException("iptables refused " + rule + ": " + error);
      }
      rules.add(rule);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String ports(List<Integer> ports) {
    return ports.stream().map(String::valueOf).collect(Collectors.joining(","));
  }

  /** Runs iptables; null on success, else its output. */
  private static String iptables(String action, List<String> rule) throws IOException {
    List<String> command = new ArrayList<>(List.of("iptables", "-w", action));
    command.addAll(rule);
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    try {
      if (!process.waitFor(20, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        return "timed out";
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "interrupted";
    }
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    return process.exitValue() == 0 ? null : output.trim();
  }
}
