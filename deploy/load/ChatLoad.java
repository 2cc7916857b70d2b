/*
 * ChatLoad: a load generator for the chat server's TCP protocol (wire protocol v1).
 *
 * One JDK 17 source file, no dependencies, run with the single-file source launcher:
 *
 *   java deploy/load/ChatLoad.java [options]          (--help lists them)
 *
 * All sockets are non-blocking and served by one java.nio Selector on the main thread.
 * Every request is compact JSON followed by a NUL byte, as the classic client sends it, so
 * every reply ends with NUL too. See deploy/load/README.md.
 */

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;

public final class ChatLoad {

  // Wire protocol v1 message ids (CONTRACT.md).
  static final int LOGIN = 1, LOGIN_ACK = 2, REG = 4, REG_ACK = 5, ONE_CHAT = 6;
  static final int PRESENCE = 103, ERROR = 104, ACK = 105, KICKED = 102, SERVER_CLOSING = 106;
  static final int RATE_LIMITED = 429;

  enum Phase { CONNECT, REGISTER, LOGIN, MESSAGES, DRAIN, DONE }

  // ------------------------------------------------------------------ options

  static final class Options {
    String scenario = "default";
    List<InetSocketAddress> nodes;
    int pairs = -1;
    int messages = -1;
    int inflight = -1;
    double rate = 0;          // messages per second per sender; 0 = unpaced
    int timeoutS = 120;
    int drainS = 10;
    int loginConcurrency = 8; // outstanding REG/LOGIN requests at once; 0 = all at once
    int setupRetries = 3;     // resends of a REG/LOGIN answered 503
    int pad = 0;
    String prefix;
    String password = "pw";
    boolean classic;
    // idle, logins and failover (see Sessions)
    int sessions = -1;        // idle sessions / login users / failover users
    int holdS = 60;           // idle: how long the sessions are held
    int sampleS = 30;         // idle: heap and RSS sampled this often while held
    int warmSessions = 0;     // idle: sessions logged in, held and closed before the baseline
    int warmS = 30;           // idle: how long the warm-up sessions are held
    long nodePid = -1;        // the node measured (idle, logins) or killed (failover)
    String histogram;         // idle: write jcmd GC.class_histogram here once all are logged in
    boolean fullGcEverySample; // idle: force the full GC at every sample, not first and last only
    String method = "password"; // logins: password|token
    int loginRounds = 1;      // logins: how many times every user logs in, measured each time
    String hashCost = "as configured on the server";
    int reconnectJitterMs = 1000; // failover: jitter when no SERVER_CLOSING advised one
    int beforeKillS = 3;      // failover: chat stream runs this long before the kill
    int afterS = 3;           // failover: and this long after every user is back
    int sourceIps = 1;        // bind client sockets to 127.0.0.1..127.0.0.N (ephemeral ports)
    int stayAway = -1;        // failover: users that come back only once shown offline
    boolean sessionScenario;  // idle, logins or failover

    static void usage() {
      System.out.println(String.join("\n",
          "usage: java deploy/load/ChatLoad.java [options]",
          "",
          "  --scenario S                one of:",
          "     same-node                  senders and receivers on the first node",
          "     cross-node                 senders on the first node, receivers on the second",
          "                                (both: ACK window --inflight, default 200 pairs x",
          "                                1000 messages, window 1)",
          "     idle                       --sessions logged-in idle sessions on the first node,",
          "                                pinging every heartbeat interval, held --hold-s;",
          "                                reports the node's RSS and heap per session",
          "     logins                     --sessions users log in (--method password|token)",
          "                                on the first node; reports logins/s",
          "     failover                   --sessions users on the first node (A) of two, a chat",
          "                                stream of --pairs into A; kill -9 A (--node-pid),",
          "                                users come back on B with their tokens",
          "     default|classic            the earlier mixed scenarios, below",
          "                              default: each sender on node i, its receiver on node",
          "                              (i+1) mod N; ACK window of --inflight per pair.",
          "                              classic: 200 pairs on the first node, one message in",
          "                              flight per pair (the next is sent once the previous",
          "                              one was delivered), requests without seq, like the",
          "                              classic measurement",
          "  --nodes h:p,h:p             loopback TCP endpoints (default 127.0.0.1:6001,",
          "                              127.0.0.1:6002; classic uses only the first)",
          "  --pairs N                   sender/receiver pairs (default 100; classic 200)",
          "  --messages N                messages per pair (default 200)",
          "  --inflight N                unacknowledged messages per pair (default 50; classic 1)",
          "  --rate R                    pace each sender to R messages/s (default 0 = unpaced;",
          "                              the server's CHAT_RATE_LIMIT defaults to 200/s per",
          "                              connection, bursts of 400)",
          "  --timeout-s S               bound on the whole run (default 120)",
          "  --drain-s S                 after the last ACK, wait at most S for deliveries, and",
          "                              stop when nothing progresses for S (default 10)",
          "  --login-concurrency N       REG/LOGIN requests outstanding at once (default 8;",
          "                              0 = all at once)",
          "  --setup-retries N           resend a REG/LOGIN answered ERROR 503 up to N times",
          "                              (default 3; 0 = a 503 ends the run)",
          "  --pad N                     add N bytes of padding to each message text (default 0)",
          "  --prefix P                  user name prefix (default: a new one per run)",
          "  --password P                password of the users it registers (default pw)",
          "  --sessions N                idle/logins/failover: sessions or users (default 500,",
          "                              200, 200)",
          "  --hold-s S                  idle: hold the sessions S seconds (default 60)",
          "  --sample-s S                idle: sample heap and RSS every S seconds (default 30)",
          "  --warm-sessions N           idle: first log in N other users, hold them --warm-s",
          "                              (default 30) with heartbeats and close them; the node",
          "                              without sessions is then measured warm (the code the",
          "                              JIT compiled for logins and heartbeats is not counted",
          "                              per session); the cold node is reported too (default 0)",
          "  --node-pid PID              idle/logins: the node process measured (default: the",
          "                              process listening on the first node's port);",
          "                              failover: node A, killed with SIGKILL",
          "  --histogram FILE            idle: write the node's GC.class_histogram to FILE",
          "  --full-gc first-last|every  idle: which samples force full GCs to count the live",
          "                              objects (default first-last: the sample before any",
          "                              session, the first and the last held; the others read",
          "                              RSS and GC.heap_info only, so the tool's own pauses do",
          "                              not make the GC grow the heap it measures)",
          "  --method password|token     logins: what the measured logins send (token: the",
          "                              tokens are obtained first with one password login each)",
          "  --hash-cost TEXT            logins: the server's password hash cost, for the report",
          "  --login-rounds N            logins: every user logs in N times (all close in between),",
          "                              each round measured (default 1: the first after the setup)",
          "  --reconnect-jitter-ms MS    failover: reconnect after a random 0..MS (default 1000)",
          "                              unless SERVER_CLOSING advised reconnect_after_ms;",
          "                              failed attempts back off exponentially, jittered",
          "  --before-kill-s S           failover: chat stream time before the kill (default 3)",
          "  --after-s S                 failover: stream time once all are back (default 3)",
          "  --stay-away K               failover: K users (default 5%) reconnect only once a",
          "                              friend on B saw them offline: they time the node-loss",
          "                              detection, which a quick reconnect hides (a handover",
          "                              shows no PRESENCE); at most 30 s after the kill",
          "  --source-ips N              bind client sockets to 127.0.0.1..127.0.0.N, N x 28k",
          "                              ephemeral ports (default 1)",
          "",
          "Exit status: 0 when every accepted message was delivered exactly once and in order",
          "and nothing else went wrong; 1 otherwise; 2 for bad options."));
    }

    static Options parse(String[] args) {
      Options o = new Options();
      String nodes = null;
      for (int i = 0; i < args.length; i++) {
        String a = args[i];
        if (a.equals("-h") || a.equals("--help")) {
          usage();
          System.exit(0);
        }
        String v;
        int eq = a.indexOf('=');
        if (a.startsWith("--") && eq > 0) {
          v = a.substring(eq + 1);
          a = a.substring(0, eq);
        } else {
          if (i + 1 >= args.length) {
            throw new IllegalArgumentException("option " + a + " needs a value");
          }
          v = args[++i];
        }
        switch (a) {
          case "--scenario" -> o.scenario = v;
          case "--nodes" -> nodes = v;
          case "--pairs" -> o.pairs = positive(a, v, 100_000);
          case "--messages" -> o.messages = positive(a, v, 10_000_000);
          case "--inflight" -> o.inflight = positive(a, v, 1_000_000);
          case "--rate" -> {
            o.rate = Double.parseDouble(v);
            if (!(o.rate >= 0) || o.rate > 10_000_000) {
              throw new IllegalArgumentException("--rate must be >= 0");
            }
          }
          case "--timeout-s" -> o.timeoutS = positive(a, v, 86_400);
          case "--drain-s" -> o.drainS = positive(a, v, 86_400);
          case "--login-concurrency" -> o.loginConcurrency = nonNegative(a, v, 1_000_000);
          case "--setup-retries" -> o.setupRetries = nonNegative(a, v, 100);
          case "--pad" -> o.pad = nonNegative(a, v, 60_000);
          case "--prefix" -> o.prefix = v;
          case "--password" -> o.password = v;
          case "--sessions" -> o.sessions = positive(a, v, 1_000_000);
          case "--hold-s" -> o.holdS = nonNegative(a, v, 86_400);
          case "--sample-s" -> o.sampleS = positive(a, v, 86_400);
          case "--warm-sessions" -> o.warmSessions = nonNegative(a, v, 1_000_000);
          case "--warm-s" -> o.warmS = nonNegative(a, v, 86_400);
          case "--node-pid" -> o.nodePid = positive(a, v, Integer.MAX_VALUE);
          case "--histogram" -> o.histogram = v;
          case "--full-gc" -> o.fullGcEverySample = switch (v) {
            case "every" -> true;
            case "first-last" -> false;
            default -> throw new IllegalArgumentException("--full-gc must be first-last or every");
          };
          case "--method" -> o.method = v;
          case "--login-rounds" -> o.loginRounds = positive(a, v, 100);
          case "--hash-cost" -> o.hashCost = v;
          case "--reconnect-jitter-ms" -> o.reconnectJitterMs = nonNegative(a, v, 600_000);
          case "--before-kill-s" -> o.beforeKillS = nonNegative(a, v, 3600);
          case "--after-s" -> o.afterS = nonNegative(a, v, 3600);
          case "--source-ips" -> o.sourceIps = positive(a, v, 250);
          case "--stay-away" -> o.stayAway = nonNegative(a, v, 1_000_000);
          default -> throw new IllegalArgumentException("unknown option " + a + " (see --help)");
        }
      }
      switch (o.scenario) {
        case "default" -> {
          if (o.pairs < 0) o.pairs = 100;
          if (o.messages < 0) o.messages = 200;
          if (o.inflight < 0) o.inflight = 50;
        }
        case "classic" -> {
          o.classic = true;
          if (o.pairs < 0) o.pairs = 200;
          if (o.messages < 0) o.messages = 200;
          if (o.inflight < 0) o.inflight = 1;
          if (o.inflight != 1) {
            throw new IllegalArgumentException("--scenario classic keeps one message in flight");
          }
        }
        case "same-node", "cross-node" -> {
          if (o.pairs < 0) o.pairs = 200;
          if (o.messages < 0) o.messages = 1000;
          if (o.inflight < 0) o.inflight = 1;
        }
        case "idle", "logins", "failover" -> {
          o.sessionScenario = true;
          if (o.sessions < 0) o.sessions = o.scenario.equals("idle") ? 500 : 200;
          if (o.pairs < 0) o.pairs = o.scenario.equals("failover") ? Math.min(5, o.sessions) : 0;
          if (o.messages < 0) o.messages = 100_000;
          if (o.inflight < 0) o.inflight = 10;
          if (o.rate <= 0) o.rate = 50;
          if (o.pairs > o.sessions) throw new IllegalArgumentException("--pairs must be <= --sessions");
          if (o.stayAway < 0) o.stayAway = Math.min(o.sessions - o.pairs, Math.max(1, o.sessions / 20));
          if (o.stayAway > o.sessions - o.pairs) {
            throw new IllegalArgumentException("--stay-away must be <= --sessions - --pairs");
          }
          if (!o.method.equals("password") && !o.method.equals("token")) {
            throw new IllegalArgumentException("--method must be password or token");
          }
        }
        default -> throw new IllegalArgumentException(
            "--scenario must be same-node, cross-node, idle, logins, failover, default or classic");
      }
      if ((long) o.pairs * o.messages > 50_000_000L) {
        throw new IllegalArgumentException("--pairs x --messages is limited to 50,000,000");
      }
      o.nodes = parseNodes(nodes == null ? "127.0.0.1:6001,127.0.0.1:6002" : nodes);
      if (o.classic || o.scenario.equals("same-node")) {
        o.nodes = List.of(o.nodes.get(0));
      }
      if ((o.scenario.equals("cross-node") || o.scenario.equals("failover")) && o.nodes.size() != 2) {
        throw new IllegalArgumentException("--scenario " + o.scenario + " needs exactly two --nodes");
      }
      if (o.prefix == null) {
        o.prefix = "ld" + Long.toString(System.currentTimeMillis(), 36)
            + Integer.toString(ThreadLocalRandom.current().nextInt(36 * 36), 36);
      }
      if (o.prefix.length() > 40 || !o.prefix.matches("[A-Za-z0-9_.-]+")) {
        throw new IllegalArgumentException("--prefix: up to 40 of [A-Za-z0-9_.-]");
      }
      return o;
    }

    static List<InetSocketAddress> parseNodes(String list) {
      List<InetSocketAddress> out = new ArrayList<>();
      for (String part : list.split(",")) {
        part = part.trim();
        if (part.isEmpty()) continue;
        int colon = part.lastIndexOf(':');
        if (colon <= 0) {
          throw new IllegalArgumentException("--nodes: expected host:port, got '" + part + "'");
        }
        String host = part.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
        int port = Integer.parseInt(part.substring(colon + 1));
        if (port < 1 || port > 65535) throw new IllegalArgumentException("--nodes: bad port " + port);
        InetAddress address;
        try {
          address = InetAddress.getByName(host);
        } catch (UnknownHostException e) {
          throw new IllegalArgumentException("--nodes: unknown host " + host);
        }
        if (!address.isLoopbackAddress()) {
          throw new IllegalArgumentException("--nodes: only loopback addresses are allowed, "
              + host + " is " + address.getHostAddress());
        }
        out.add(new InetSocketAddress(address, port));
      }
      if (out.isEmpty()) throw new IllegalArgumentException("--nodes: no node given");
      return out;
    }

    static int positive(String name, String v, int max) {
      int n = Integer.parseInt(v);
      if (n < 1 || n > max) throw new IllegalArgumentException(name + " must be 1.." + max);
      return n;
    }

    static int nonNegative(String name, String v, int max) {
      int n = Integer.parseInt(v);
      if (n < 0 || n > max) throw new IllegalArgumentException(name + " must be 0.." + max);
      return n;
    }
  }

  // ------------------------------------------------------------------ model

  /** One client socket: a sender or a receiver of one pair. */
  final class Conn extends Link {
    final Pair pair;
    final boolean sender;
    final InetSocketAddress node;
    final String name;
    int userId = -1;
    boolean connected, registered, loggedIn;
    boolean requestPending;       // a REG or LOGIN awaiting its reply
    int setupRetries;             // REG/LOGIN resent after a 503
    boolean registrationUncertain; // a REG was answered 503: the account may exist anyway

    Conn(Pair pair, boolean sender, InetSocketAddress node, String name) {
      this.pair = pair;
      this.sender = sender;
      this.node = node;
      this.name = name;
    }

    String label() {
      return (sender ? "sender " : "receiver ") + pair.index + " (" + name + ", "
          + node.getAddress().getHostAddress() + ":" + node.getPort() + ")";
    }
  }

  /** A sender, its receiver, and what happened to each of its messages. */
  final class Pair {
    final int index;
    Conn sender, receiver;
    int sent;                 // messages 1..sent have been written
    int acked, rejected, failed, delivered;
    int lastReceived;         // highest seq seen at the receiver (0 = none)
    long nextSendAt;          // pacing
    final byte[] outcome;     // per seq: 0 unanswered, 1 acked, 2 rate limited, 3 other error
    final byte[] receivedCount;
    final long[] sentAt;

    Pair(int index, int messages) {
      this.index = index;
      this.outcome = new byte[messages + 1];
      this.receivedCount = new byte[messages + 1];
      this.sentAt = new long[messages + 1];
    }

    int outstanding() {
      return o.classic ? sent - delivered - rejected - failed : sent - acked - rejected - failed;
    }
  }

  // ------------------------------------------------------------------ state

  final Options o;
  final Selector selector;
  final Pair[] pairs;
  final List<Conn> conns = new ArrayList<>();
  final ByteBuffer readBuffer = ByteBuffer.allocateDirect(256 * 1024);
  final byte[] readBytes = new byte[256 * 1024];
  final String padding;

  Phase phase = Phase.CONNECT;
  long runStart, deadline;
  long connectedAt, registerStart, registerEnd, loginStart, loginEnd;
  long messagesStart, lastDeliveryAt, lastResolvedAt, drainDeadline, lastProgressAt;
  int connectedCount, registeredCount, loggedInCount, setupOutstanding;
  int nextSetup;                 // next conn to send REG/LOGIN to
  final ArrayDeque<Conn> setupRetry = new ArrayDeque<>();
  long setupUnavailable;         // REG/LOGIN answered 503 (and resent)
  long createdDespite503;        // REG answered 503, yet the name was taken when resent
  String failure;                // set when the run must stop
  long[] latencies;              // send -> receive, nanos
  int latencyCount;
  long[] ackLatencies;
  int ackLatencyCount;
  long totalSent, totalAcked, totalRejected, totalFailed, totalDelivered;
  long duplicates, reordered, gaps, misrouted, unparsable, closedUnexpectedly, otherMessages;
  final Map<String, Integer> errors = new TreeMap<>();   // "errno ref" -> count
  final List<String> notes = new ArrayList<>();
  double cpuAtStart;
  long[] machineAtStart;
  String loadAtStart;

  ChatLoad(Options o) throws IOException {
    this.o = o;
    this.selector = Selector.open();
    this.pairs = new Pair[o.pairs];
    this.padding = o.pad > 0 ? ":" + "x".repeat(o.pad) : "";
    int total = o.pairs * o.messages;
    this.latencies = new long[total];
    this.ackLatencies = new long[o.classic ? 0 : total];
    int n = o.nodes.size();
    for (int i = 0; i < o.pairs; i++) {
      Pair p = new Pair(i, o.messages);
      p.sender = new Conn(p, true, o.nodes.get(i % n), o.prefix + "s" + i);
      p.receiver = new Conn(p, false, o.nodes.get(o.classic ? 0 : (i + 1) % n), o.prefix + "r" + i);
      if (o.scenario.equals("cross-node")) {
        p.sender = new Conn(p, true, o.nodes.get(0), o.prefix + "s" + i);
        p.receiver = new Conn(p, false, o.nodes.get(1), o.prefix + "r" + i);
      }
      pairs[i] = p;
      conns.add(p.sender);
      conns.add(p.receiver);
    }
  }

  public static void main(String[] args) {
    Options options;
    try {
      options = Options.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("chat-load: " + e.getMessage());
      System.exit(2);
      return;
    }
    int status;
    try {
      status = options.sessionScenario ? new Sessions(options).run() : new ChatLoad(options).run();
    } catch (IOException e) {
      System.err.println("chat-load: " + e);
      status = 1;
    }
    System.exit(status);
  }

  // ------------------------------------------------------------------ main loop

  int run() throws IOException {
    describe();
    cpuAtStart = cpuSeconds();
    machineAtStart = machineTicks();
    loadAtStart = loadAverage();
    runStart = System.nanoTime();
    deadline = runStart + o.timeoutS * 1_000_000_000L;
    for (Conn c : conns) {
      c.channel = SocketChannel.open();
      c.channel.configureBlocking(false);
      c.channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
      try {
        if (c.channel.connect(c.node)) {
          c.key = c.channel.register(selector, SelectionKey.OP_READ, c);
          onConnected(c);
        } else {
          c.key = c.channel.register(selector, SelectionKey.OP_CONNECT, c);
        }
      } catch (IOException e) {
        fail("cannot connect " + c.label() + ": " + e.getMessage());
        break;
      }
    }
    long loops = 0;
    while (failure == null && phase != Phase.DONE) {
      long now = System.nanoTime();
      if (now >= deadline) {
        fail("timed out after " + o.timeoutS + " s in phase " + phase);
        break;
      }
      if (phase == Phase.MESSAGES && now - lastProgressAt > o.drainS * 1_000_000_000L) {
        fail("no message answered or delivered for " + o.drainS + " s (" + totalSent + " sent, "
            + totalAcked + " acked, " + totalDelivered + " delivered)");
        break;
      }
      if (phase == Phase.DRAIN && now >= drainDeadline) {
        notes.add("stopped waiting for deliveries " + o.drainS + " s after the last ACK");
        finishMessages(now);
        break;
      }
      long waitNanos = Math.min(deadline - now, 200_000_000L);
      if (phase == Phase.DRAIN) waitNanos = Math.min(waitNanos, drainDeadline - now);
      if (phase == Phase.MESSAGES && o.rate > 0) {
        waitNanos = Math.min(waitNanos, Math.max(0, nextPacedSend() - now));
      }
      long waitMs = (waitNanos + 999_999L) / 1_000_000L; // round up: no spinning
      if (waitMs <= 0) {
        selector.selectNow();
      } else {
        selector.select(waitMs);
      }
      for (SelectionKey key : selector.selectedKeys()) {
        Conn c = (Conn) key.attachment();
        try {
          if (!key.isValid()) continue;
          if (key.isConnectable()) finishConnect(c);
          if (key.isValid() && key.isWritable()) flush(c);
          if (key.isValid() && key.isReadable()) read(c);
        } catch (IOException e) {
          connectionLost(c, e.getMessage());
        }
        if (failure != null) break;
      }
      selector.selectedKeys().clear();
      if (phase == Phase.MESSAGES && o.rate > 0 && failure == null) {
        long t = System.nanoTime();
        for (Pair p : pairs) {
          if (p.nextSendAt <= t) trySend(p);
        }
      }
      loops++;
    }
    long end = System.nanoTime();
    for (Conn c : conns) {
      if (c.channel != null) {
        try {
          c.channel.close();
        } catch (IOException ignored) {
          // closing anyway
        }
      }
    }
    selector.close();
    return report(end, loops);
  }

  long nextPacedSend() {
    long min = Long.MAX_VALUE;
    for (Pair p : pairs) {
      if (p.sent < o.messages && p.outstanding() < o.inflight && p.nextSendAt < min) {
        min = p.nextSendAt;
      }
    }
    return min == Long.MAX_VALUE ? System.nanoTime() + 200_000_000L : min;
  }

  void fail(String why) {
    if (failure == null) failure = why;
  }

  // ------------------------------------------------------------------ connections

  void finishConnect(Conn c) throws IOException {
    if (c.channel.finishConnect()) {
      c.key.interestOps(SelectionKey.OP_READ);
      onConnected(c);
    }
  }

  void onConnected(Conn c) {
    c.connected = true;
    if (++connectedCount == conns.size()) {
      connectedAt = System.nanoTime();
      phase = Phase.REGISTER;
      registerStart = connectedAt;
      nextSetup = 0;
      pumpSetup();
    }
  }

  void connectionLost(Conn c, String why) {
    if (c.closed) return;
    c.closed = true;
    if (c.key != null) c.key.cancel();
    try {
      c.channel.close();
    } catch (IOException ignored) {
      // already gone
    }
    closedUnexpectedly++;
    String what = c.label() + " closed by the server or the network"
        + (why == null ? "" : " (" + why + ")") + " in phase " + phase;
    if (phase.ordinal() < Phase.MESSAGES.ordinal()) {
      fail(what);
    } else if (notes.size() < 20) {
      notes.add(what);
    }
  }

  void send(Conn c, String json) {
    try {
      Link.write(c, json);
    } catch (IOException e) {
      connectionLost(c, e.getMessage());
    }
  }

  void flush(Conn c) throws IOException {
    Link.flush(c);
  }

  void read(Conn c) throws IOException {
    if (!Link.read(c, readBuffer, readBytes, (link, frame, now) -> {
      handleFrame(c, frame, now);
      return !c.closed && failure == null;
    })) {
      connectionLost(c, "end of stream");
      return;
    }
    if (c.partialLength > 4 * 1024 * 1024) {
      fail(c.label() + ": a reply longer than 4 MiB without a terminator");
    }
  }

  // ------------------------------------------------------------------ replies

  void handleFrame(Conn c, String frame, long now) {
    Map<String, Object> m;
    try {
      m = Json.object(frame);
    } catch (RuntimeException e) {
      unparsable++;
      if (notes.size() < 20) notes.add(c.label() + ": unparsable reply: " + abbreviate(frame));
      return;
    }
    int msgid = intOf(m.get("msgid"), -1);
    switch (msgid) {
      case REG_ACK -> onRegAck(c, m);
      case LOGIN_ACK -> onLoginAck(c, m);
      case ONE_CHAT -> onDelivery(c, m, now);
      case ACK -> onAck(c, m, now);
      case ERROR -> onError(c, m, now);
      case PRESENCE -> { /* no friends here; ignore */ }
      default -> {
        otherMessages++;
        if (notes.size() < 20) notes.add(c.label() + ": unexpected message " + abbreviate(frame));
        if (msgid == KICKED || msgid == SERVER_CLOSING) {
          fail(c.label() + " got " + abbreviate(frame));
        }
      }
    }
  }

  void onRegAck(Conn c, Map<String, Object> m) {
    if (phase != Phase.REGISTER || !c.requestPending || c.registered) {
      otherMessages++;
      return;
    }
    c.requestPending = false;
    setupOutstanding--;
    if (intOf(m.get("errno"), -1) != 0) {
      if (!c.registrationUncertain) {
        fail("registration of " + c.label() + " refused: " + m);
        return;
      }
      // The earlier REG was answered 503 but did create the account: log in by name.
      createdDespite503++;
      c.userId = -1;
    } else {
      c.userId = intOf(m.get("id"), -1);
      if (c.userId < 0) {
        fail("registration of " + c.label() + " without an id: " + m);
        return;
      }
    }
    c.registered = true;
    if (++registeredCount == conns.size()) {
      registerEnd = System.nanoTime();
      phase = Phase.LOGIN;
      loginStart = registerEnd;
      nextSetup = 0;
    }
    pumpSetup();
  }

  void onLoginAck(Conn c, Map<String, Object> m) {
    if (phase != Phase.LOGIN || !c.requestPending || c.loggedIn) {
      otherMessages++;
      return;
    }
    c.requestPending = false;
    setupOutstanding--;
    if (intOf(m.get("errno"), -1) != 0) {
      fail("login of " + c.label() + " refused: " + m);
      return;
    }
    int id = intOf(m.get("id"), -2);
    if (c.userId < 0 && id >= 0) {
      c.userId = id;  // logged in by name
    }
    if (id != c.userId) {
      fail("login of " + c.label() + " answered for another id: " + m);
      return;
    }
    Object offline = m.get("offlinemsg");
    if (offline instanceof List<?> list && !list.isEmpty()) {
      notes.add(c.label() + " had " + list.size() + " offline messages at login");
    }
    c.loggedIn = true;
    if (++loggedInCount == conns.size()) {
      loginEnd = System.nanoTime();
      phase = Phase.MESSAGES;
      messagesStart = loginEnd;
      lastProgressAt = loginEnd;
      for (Pair p : pairs) {
        p.nextSendAt = messagesStart;
        trySend(p);
      }
      return;
    }
    pumpSetup();
  }

  /** Sends REG or LOGIN requests, keeping at most --login-concurrency outstanding. */
  void pumpSetup() {
    int limit = o.loginConcurrency == 0 ? Integer.MAX_VALUE : o.loginConcurrency;
    while (failure == null && (!setupRetry.isEmpty() || nextSetup < conns.size())
        && setupOutstanding < limit) {
      Conn c = setupRetry.isEmpty() ? conns.get(nextSetup++) : setupRetry.poll();
      c.requestPending = true;
      setupOutstanding++;
      if (phase == Phase.REGISTER) {
        send(c, "{\"msgid\":" + REG + ",\"name\":" + quote(c.name)
            + ",\"password\":" + quote(o.password) + "}");
      } else if (c.userId >= 0) {
        send(c, "{\"msgid\":" + LOGIN + ",\"id\":" + c.userId
            + ",\"password\":" + quote(o.password) + "}");
      } else {
        send(c, "{\"msgid\":" + LOGIN + ",\"name\":" + quote(c.name)
            + ",\"password\":" + quote(o.password) + "}");
      }
    }
  }

  void trySend(Pair p) {
    long interval = o.rate > 0 ? (long) (1e9 / o.rate) : 0;
    while (p.sent < o.messages && p.outstanding() < o.inflight && !p.sender.closed) {
      long now = System.nanoTime();
      if (interval > 0) {
        if (p.nextSendAt > now) return;
        // at most one interval of catch-up: no bursts after a stall
        p.nextSendAt = Math.max(p.nextSendAt, now - interval) + interval;
      }
      int seq = ++p.sent;
      p.sentAt[seq] = now;
      totalSent++;
      StringBuilder b = new StringBuilder(96 + padding.length());
      b.append("{\"msgid\":").append(ONE_CHAT).append(",\"toid\":").append(p.receiver.userId)
          .append(",\"msg\":\"").append(p.index).append(':').append(seq).append(':').append(now)
          .append(padding).append('"');
      if (!o.classic) b.append(",\"seq\":").append(seq);
      b.append('}');
      send(p.sender, b.toString());
    }
  }

  void onAck(Conn c, Map<String, Object> m, long now) {
    Pair p = c.pair;
    int seq = intOf(m.get("seq"), -1);
    if (!c.sender || o.classic || seq < 1 || seq > p.sent || intOf(m.get("ref"), -1) != ONE_CHAT) {
      otherMessages++;
      if (notes.size() < 20) notes.add(c.label() + ": unexpected ACK " + m);
      return;
    }
    if (p.outcome[seq] != 0) {
      otherMessages++;
      if (notes.size() < 20) notes.add(c.label() + ": second answer for seq " + seq + ": " + m);
      return;
    }
    if (intOf(m.get("errno"), 0) != 0) {
      countError(m);
      p.outcome[seq] = 3;
      p.failed++;
      totalFailed++;
    } else {
      p.outcome[seq] = 1;
      p.acked++;
      totalAcked++;
      ackLatencies[ackLatencyCount++] = now - p.sentAt[seq];
    }
    resolved(p, now);
  }

  void onError(Conn c, Map<String, Object> m, long now) {
    countError(m);
    Pair p = c.pair;
    int errno = intOf(m.get("errno"), -1);
    if (phase.ordinal() < Phase.MESSAGES.ordinal()) {
      if (errno == 503 && c.requestPending && c.setupRetries < o.setupRetries) {
        // "service did not answer" in time: resend, and remember that a REG may have worked
        setupUnavailable++;
        c.setupRetries++;
        c.requestPending = false;
        setupOutstanding--;
        if (phase == Phase.REGISTER) c.registrationUncertain = true;
        setupRetry.add(c);
        pumpSetup();
        return;
      }
      fail(c.label() + " got an error during " + phase + ": " + m);
      return;
    }
    if (!c.sender || intOf(m.get("ref"), -1) != ONE_CHAT) {
      if (notes.size() < 20) notes.add(c.label() + ": error " + m);
      return;
    }
    int seq;
    if (o.classic) {
      // one message in flight: the error is about the newest one not yet delivered
      seq = p.sent;
    } else {
      seq = intOf(m.get("seq"), -1);
    }
    if (seq < 1 || seq > p.sent || p.outcome[seq] != 0 || o.classic && p.receivedCount[seq] != 0) {
      if (notes.size() < 20) notes.add(c.label() + ": error for no message in flight " + m);
      return;
    }
    if (errno == RATE_LIMITED) {
      p.outcome[seq] = 2;
      p.rejected++;
      totalRejected++;
    } else {
      p.outcome[seq] = 3;
      p.failed++;
      totalFailed++;
    }
    resolved(p, now);
  }

  void countError(Map<String, Object> m) {
    String k = "errno " + m.get("errno") + " ref " + m.get("ref")
        + (m.get("errmsg") == null ? "" : " (" + m.get("errmsg") + ")");
    errors.merge(k, 1, Integer::sum);
  }

  void onDelivery(Conn c, Map<String, Object> m, long now) {
    Object text = m.get("msg");
    String[] parts = text instanceof String s ? s.split(":", 4) : new String[0];
    int pairIndex, seq;
    long sentNanos;
    try {
      pairIndex = Integer.parseInt(parts[0]);
      seq = Integer.parseInt(parts[1]);
      sentNanos = Long.parseLong(parts[2]);
    } catch (RuntimeException e) {
      unparsable++;
      if (notes.size() < 20) notes.add(c.label() + ": delivery with a foreign text " + m);
      return;
    }
    Pair p = c.pair;
    if (c.sender || pairIndex != p.index || seq < 1 || seq > p.sent
        || intOf(m.get("id"), -1) != p.sender.userId || intOf(m.get("toid"), -1) != c.userId) {
      misrouted++;
      if (notes.size() < 20) notes.add(c.label() + ": misrouted delivery " + m);
      return;
    }
    if (p.receivedCount[seq] != 0) {
      duplicates++;
      if (p.receivedCount[seq] < 100) p.receivedCount[seq]++;
      return;
    }
    p.receivedCount[seq] = 1;
    if (seq < p.lastReceived) {
      reordered++;
    } else {
      p.lastReceived = seq;
    }
    p.delivered++;
    totalDelivered++;
    lastProgressAt = now;
    latencies[latencyCount++] = now - sentNanos;
    lastDeliveryAt = now;
    if (o.classic) {
      resolved(p, now);
    } else if (phase == Phase.DRAIN) {
      checkDrained(now);
    }
  }

  /** One message of p got its answer (or, in classic mode, was delivered). */
  void resolved(Pair p, long now) {
    lastResolvedAt = now;
    lastProgressAt = now;
    if (phase != Phase.MESSAGES) {
      if (phase == Phase.DRAIN) checkDrained(now);
      return;
    }
    trySend(p);
    if (totalSent == (long) o.pairs * o.messages
        && totalAcked + totalRejected + totalFailed + (o.classic ? totalDelivered : 0)
            >= totalSent) {
      phase = Phase.DRAIN;
      drainDeadline = now + o.drainS * 1_000_000_000L;
      checkDrained(now);
    }
  }

  void checkDrained(long now) {
    long expected = o.classic ? totalDelivered : totalAcked;
    // Everything acknowledged has arrived (in ACK mode, deliveries may trail the ACKs);
    // messages answered with an error should not arrive and are not waited for.
    if (phase == Phase.DRAIN && totalDelivered >= expected) {
      finishMessages(now);
    }
  }

  void finishMessages(long now) {
    phase = Phase.DONE;
  }

  // ------------------------------------------------------------------ report

  void describe() {
    StringBuilder b = new StringBuilder();
    b.append("chat-load: scenario ").append(o.scenario).append(", ").append(o.pairs).append(" pairs, ")
        .append(o.messages).append(" messages each, ");
    if (o.classic) {
      b.append("one in flight per pair (next sent after delivery), no seq/ACK");
    } else {
      b.append("at most ").append(o.inflight).append(" unacknowledged per pair (ACK window)");
    }
    b.append(", rate ").append(o.rate > 0 ? fmt(o.rate, 0) + "/s per sender" : "unpaced");
    b.append("\n  nodes: ");
    for (int i = 0; i < o.nodes.size(); i++) {
      InetSocketAddress a = o.nodes.get(i);
      b.append(i == 0 ? "" : ", ").append(a.getAddress().getHostAddress()).append(':').append(a.getPort());
    }
    b.append(o.classic || o.nodes.size() == 1 ? " (sender and receiver on the same node)"
        : o.scenario.equals("cross-node") ? " (senders on the first, receivers on the second)"
        : " (sender on node i, receiver on node i+1)");
    b.append("\n  users: ").append(o.prefix).append("s<i> / ").append(o.prefix).append("r<i>");
    System.out.println(b);
  }

  int report(long end, long loops) {
    long total = (long) o.pairs * o.messages;
    long lost = 0, unanswered = 0, lostDespiteAck = 0, deliveredDespiteError = 0;
    for (Pair p : pairs) {
      // a gap: a run of messages that should have arrived, missing before one that did
      boolean inHole = false;
      for (int s = 1; s <= p.lastReceived; s++) {
        boolean missing = p.receivedCount[s] == 0 && p.outcome[s] < 2;
        if (missing && !inHole) gaps++;
        inHole = missing;
      }
      for (int s = 1; s <= o.messages; s++) {
        boolean received = p.receivedCount[s] != 0;
        if (s > p.sent) continue;
        byte outcome = p.outcome[s];
        if (!received && outcome == 0 || !received && outcome == 1) lost++;
        if (!received && outcome == 1) lostDespiteAck++;
        if (outcome == 0 && !o.classic) unanswered++;
        if (received && outcome >= 2) deliveredDespiteError++;
      }
    }
    long notSent = total - totalSent;
    double setupUsers = conns.size();
    double regS = registerEnd > 0 ? (registerEnd - registerStart) / 1e9 : Double.NaN;
    double loginS = loginEnd > 0 ? (loginEnd - loginStart) / 1e9 : Double.NaN;
    long msgEnd = Math.max(lastDeliveryAt, lastResolvedAt);
    double msgS = messagesStart > 0 && msgEnd > messagesStart ? (msgEnd - messagesStart) / 1e9 : Double.NaN;
    double rate = totalDelivered / msgS;

    Arrays.sort(latencies, 0, latencyCount);
    Arrays.sort(ackLatencies, 0, ackLatencyCount);
    double cpuS = cpuSeconds() - cpuAtStart;

    PrintLine out = new PrintLine();
    out.line("setup:     %d/%d connected in %s s; %d registrations in %s s = %s/s; %d logins in %s s = %s/s; both together %s/s",
        connectedCount, conns.size(), fmt((connectedAt > 0 ? connectedAt : end) - runStart, 1e9, 3),
        registeredCount, fmt(regS, 3), fmt(setupUsers / regS, 0),
        loggedInCount, fmt(loginS, 3), fmt(setupUsers / loginS, 0),
        fmt(setupUsers / (regS + loginS), 0));
    if (setupUnavailable > 0) {
      out.line("setup:     %d REG/LOGIN requests answered 503 and resent; %d accounts existed although "
          + "their REG had been answered 503", setupUnavailable, createdDespite503);
    }
    out.line("messages:  %d planned, %d sent, %d acked, %d delivered in %s s = %s msgs/s",
        total, totalSent, totalAcked, totalDelivered, fmt(msgS, 3), fmt(rate, 0));
    out.line("latency:   send -> delivery ms: p50 %s  p90 %s  p99 %s  max %s  (n=%d)",
        pct(latencies, latencyCount, 0.50), pct(latencies, latencyCount, 0.90),
        pct(latencies, latencyCount, 0.99), pct(latencies, latencyCount, 1.0), latencyCount);
    if (!o.classic) {
      out.line("           send -> ACK ms:      p50 %s  p90 %s  p99 %s  max %s  (n=%d)",
          pct(ackLatencies, ackLatencyCount, 0.50), pct(ackLatencies, ackLatencyCount, 0.90),
          pct(ackLatencies, ackLatencyCount, 0.99), pct(ackLatencies, ackLatencyCount, 1.0),
          ackLatencyCount);
    }
    out.line("checks:    lost %d (of them ACKed %d), duplicates %d, reordered %d, gaps %d, misrouted %d, "
            + "rate-limited (429) %d, other errors %d, unanswered %d, delivered despite an error %d, "
            + "not sent %d, unparsable %d, unexpected %d, connections closed %d",
        lost, lostDespiteAck, duplicates, reordered, gaps, misrouted, totalRejected, totalFailed,
        unanswered, deliveredDespiteError, notSent, unparsable, otherMessages, closedUnexpectedly);
    for (Map.Entry<String, Integer> e : errors.entrySet()) {
      out.line("error:     %d x %s", e.getValue(), e.getKey());
    }
    for (String note : notes) {
      out.line("note:      %s", note);
    }
    out.line("client:    %s s CPU in the load generator, %d loop turns, %s s wall",
        fmt(cpuS, 2), loops, fmt(end - runStart, 1e9, 2));
    long[] machineAtEnd = machineTicks();
    if (machineAtStart != null && machineAtEnd != null) {
      double[] d = new double[machineAtEnd.length];
      double sum = 0;
      for (int k = 0; k < d.length; k++) {
        d[k] = machineAtEnd[k] - machineAtStart[k];
        sum += d[k];
      }
      if (sum > 0) {
        // /proc/stat cpu: user nice system idle iowait irq softirq steal
        out.line("machine:   %d CPUs; during the run busy %s%%, idle %s%%, steal %s%% (all processes); "
                + "load average %s at start, %s at end",
            Runtime.getRuntime().availableProcessors(),
            fmt(100 * (d[0] + d[1] + d[2] + d[5] + d[6]) / sum, 0), fmt(100 * (d[3] + d[4]) / sum, 0),
            fmt(100 * d[7] / sum, 0), loadAtStart, loadAverage());
      }
    }
    out.line("RESULT scenario=%s nodes=%d pairs=%d messages=%d inflight=%d rate=%s sent=%d delivered=%d "
            + "duration_s=%s msgs_per_s=%s p50_ms=%s p90_ms=%s p99_ms=%s max_ms=%s "
            + "registrations_per_s=%s logins_per_s=%s lost=%d duplicates=%d reordered=%d gaps=%d "
            + "rate_limited=%d errors=%d setup_503=%d exactly_once=%s in_order=%s",
        o.scenario, o.nodes.size(), o.pairs, o.messages, o.inflight, o.rate > 0 ? fmt(o.rate, 0) : "0",
        totalSent, totalDelivered, fmt(msgS, 3), fmt(rate, 0),
        pct(latencies, latencyCount, 0.50), pct(latencies, latencyCount, 0.90),
        pct(latencies, latencyCount, 0.99), pct(latencies, latencyCount, 1.0),
        fmt(setupUsers / regS, 0), fmt(setupUsers / loginS, 0),
        lost, duplicates, reordered, gaps, totalRejected, totalFailed, setupUnavailable,
        lost == 0 && duplicates == 0 && misrouted == 0 && totalSent > 0 ? "yes" : "no",
        reordered == 0 && gaps == 0 && totalSent > 0 ? "yes" : "no");

    List<String> reasons = new ArrayList<>();
    if (failure != null) reasons.add(failure);
    if (lost > 0) reasons.add(lost + " lost");
    if (duplicates > 0) reasons.add(duplicates + " duplicated");
    if (reordered > 0) reasons.add(reordered + " reordered");
    if (misrouted > 0) reasons.add(misrouted + " misrouted");
    if (totalFailed > 0) reasons.add(totalFailed + " errors");
    if (notSent > 0 && failure == null) reasons.add(notSent + " not sent");
    if (closedUnexpectedly > 0) reasons.add(closedUnexpectedly + " connections closed");
    if (unparsable > 0) reasons.add(unparsable + " unparsable replies");
    if (reasons.isEmpty()) {
      out.line("PASS%s", totalRejected > 0
          ? " (but " + totalRejected + " messages were refused with 429: pace with --rate or raise CHAT_RATE_LIMIT)"
          : "");
      return 0;
    }
    out.line("FAIL: %s", String.join("; ", reasons));
    return 1;
  }

  static double cpuSeconds() {
    if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
      return os.getProcessCpuTime() / 1e9;
    }
    return Double.NaN;
  }

  /** user, nice, system, idle, iowait, irq, softirq, steal ticks of all CPUs (Linux), or null. */
  static long[] machineTicks() {
    try {
      for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/stat"))) {
        if (line.startsWith("cpu ")) {
          String[] f = line.trim().split("\\s+");
          long[] t = new long[8];
          for (int k = 0; k < 8 && k + 1 < f.length; k++) t[k] = Long.parseLong(f[k + 1]);
          return t;
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux: no machine figures
    }
    return null;
  }

  static String loadAverage() {
    try {
      String[] f = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg")).trim().split(" ");
      return f[0];
    } catch (IOException | RuntimeException e) {
      return "-";
    }
  }

  static final class PrintLine {
    void line(String format, Object... args) {
      System.out.println(String.format(Locale.ROOT, format, args));
    }
  }

  static String pct(long[] sorted, int n, double q) {
    if (n == 0) return "-";
    int index = (int) Math.ceil(q * n) - 1;
    index = Math.max(0, Math.min(n - 1, index));
    return fmt(sorted[index] / 1e6, 2);
  }

  static String fmt(double v, int decimals) {
    if (Double.isNaN(v) || Double.isInfinite(v)) return "-";
    return String.format(Locale.ROOT, "%." + decimals + "f", v);
  }

  static String fmt(long nanos, double unit, int decimals) {
    return fmt(nanos / unit, decimals);
  }

  static int intOf(Object v, int otherwise) {
    if (v instanceof Long l && l >= Integer.MIN_VALUE && l <= Integer.MAX_VALUE) return (int) (long) l;
    if (v instanceof String s) {
      try {
        return Integer.parseInt(s);
      } catch (NumberFormatException e) {
        return otherwise;
      }
    }
    return otherwise;
  }

  static String abbreviate(String s) {
    return s.length() <= 200 ? s : s.substring(0, 200) + "...";
  }

  static String quote(String s) {
    StringBuilder b = new StringBuilder(s.length() + 2).append('"');
    for (int i = 0; i < s.length(); i++) {
      char ch = s.charAt(i);
      switch (ch) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        default -> {
          if (ch < 0x20) {
            b.append(String.format(Locale.ROOT, "\\u%04x", (int) ch));
          } else {
            b.append(ch);
          }
        }
      }
    }
    return b.append('"').toString();
  }

  // ------------------------------------------------------------------ idle, logins, failover

  /**
   * The session scenarios: many users, each with one socket at a time, each a small state
   * machine driven by its replies. One Selector on the main thread serves every socket; the
   * node's heap and RSS are sampled by a second thread (jcmd takes seconds), which never
   * touches a socket.
   */
  static final class Sessions implements Link.Frames {

    static final int PING = 100, ADD_FRIEND = 7, LOGIN_PASSWORD = 0, LOGIN_TOKEN = 1;

    /** Where one user is. */
    enum Step { NEW, CONNECTING, REGISTERING, LOGGING_IN, FRIENDING, READY, PARKED, WAITING, DONE }

    final class User extends Link {
      final int index;
      final String name;
      int id = -1;
      String token;
      int node;                  // index into nodes
      Step step = Step.NEW;
      boolean wantToken;         // log in with the token (not the password) next
      boolean jobActive;         // counts against the concurrency bound
      long jobStart;             // when the current connect+request began
      long nextPingAt;
      long reconnectAt;          // failover: when to try again
      int attempts;              // failover: reconnect attempts since the kill
      int retries503;
      boolean stayAway;          // failover: comes back only once shown offline
      long offlineSeenAt, onlineSeenAt, backAt;
      long connectedSince;
      // failover chat stream: user index < pairs receives from sender[index]
      int lastReceived;
      byte[] received;

      User(int index, String name, int node) {
        this.index = index;
        this.name = name;
        this.node = node;
      }
    }

    /** A chat stream into node A that runs through the failover. */
    final class Sender extends Link {
      final int index;
      final String name;
      int id = -1;
      Step step = Step.NEW;
      int sent, acked, failed;
      long nextSendAt;
      byte[] outcome;            // per seq: 0 unanswered, 1 acked, 2 refused

      Sender(int index, String name) {
        this.index = index;
        this.name = name;
      }
    }

    final Options o;
    final Selector selector;
    final List<InetSocketAddress> nodes;
    User[] users;
    final Sender[] senders;
    User watcher;              // failover: everyone's friend, on node B
    final ByteBuffer readBuffer = ByteBuffer.allocateDirect(64 * 1024);
    final byte[] readBytes = new byte[64 * 1024];
    final ArrayDeque<Link> jobs = new ArrayDeque<>();
    int activeJobs;
    final int concurrency;
    final Random random = new Random();
    final NodeProbe probe;
    final List<String> notes = new ArrayList<>();
    final Map<String, Integer> errors = new TreeMap<>();
    String failure;
    long runStart, deadline;
    int heartbeatIntervalS = 10;
    String phase = "setup";

    // counters
    int registered, loggedIn, ready, friended, closedUnexpectedly, pongs, unparsable;
    long setup503, loginRetries, tokenRefused;
    long measureStart, measureEnd;
    long[] loginLatencies;
    int loginLatencyCount;

    Sessions(Options o) throws IOException {
      this.o = o;
      this.selector = Selector.open();
      this.nodes = o.nodes;
      this.concurrency = o.loginConcurrency == 0 ? Integer.MAX_VALUE : o.loginConcurrency;
      this.users = new User[o.sessions];
      for (int i = 0; i < o.sessions; i++) {
        users[i] = new User(i, o.prefix + "u" + i, 0);
        users[i].stayAway = o.scenario.equals("failover") && i >= o.sessions - o.stayAway;
      }
      this.senders = new Sender[o.scenario.equals("failover") ? o.pairs : 0];
      for (int i = 0; i < senders.length; i++) {
        senders[i] = new Sender(i, o.prefix + "s" + i);
        senders[i].outcome = new byte[o.messages + 1];
        users[i].received = new byte[o.messages + 1];
      }
      long pid = o.nodePid;
      if (pid < 0) pid = NodeProbe.pidListeningOn(nodes.get(0).getPort());
      this.probe = pid > 0 ? new NodeProbe(pid) : null;
      this.loginLatencies = new long[o.sessions];
    }

    int run() throws IOException {
      long need = (long) o.sessions + o.pairs * 2L + 64;
      long limit = NodeProbe.openFileLimit();
      System.out.println("chat-load: scenario " + o.scenario + ", " + o.sessions + " sessions on "
          + addr(nodes.get(0)) + (nodes.size() > 1 ? " (B: " + addr(nodes.get(1)) + ")" : "")
          + ", users " + o.prefix + "u<i>; node pid " + (probe == null ? "unknown" : probe.pid)
          + "; this process may open " + limit + " files and needs about " + need);
      if (limit > 0 && need > limit) {
        System.out.println("FAIL: --sessions " + o.sessions + " needs about " + need
            + " file descriptors, this process may open " + limit + " (ulimit -n)");
        return 1;
      }
      runStart = System.nanoTime();
      deadline = runStart + o.timeoutS * 1_000_000_000L;
      int status;
      try {
        status = switch (o.scenario) {
          case "idle" -> idle();
          case "logins" -> logins();
          default -> failover();
        };
      } finally {
        for (User u : users) u.closeQuietly();
        for (Sender s : senders) s.closeQuietly();
        if (watcher != null) watcher.closeQuietly();
        selector.close();
      }
      return status;
    }

    // ---------------------------------------------------------------- idle

    /**
     * Logs in --warm-sessions other users with heartbeats, holds them --warm-s, closes them and
     * waits a few seconds: the node has then run the code of logins and heartbeats, and the
     * baseline taken after it holds what the JIT compiled for them. False on a failure.
     */
    boolean warmUp() throws IOException {
      User[] measured = users;
      User[] warm = new User[Math.min(o.warmSessions, measured.length)];
      for (int i = 0; i < warm.length; i++) warm[i] = new User(i, o.prefix + "w" + i, 0);
      users = warm;
      for (User u : users) jobs.add(u);
      long start = System.nanoTime();
      loop(() -> ready == users.length, "warm-up sessions logged in");
      if (failure != null) return false;
      long warmEnd = System.nanoTime() + o.warmS * 1_000_000_000L;
      loop(() -> System.nanoTime() >= warmEnd, "warm-up sessions held");
      for (User u : warm) u.closeQuietly();
      System.out.printf(Locale.ROOT, "warm-up:   %d other sessions logged in, held %d s (%d PONGs)"
          + " and closed, in %s s%n", warm.length, o.warmS, pongs,
          fmt((System.nanoTime() - start) / 1e9, 1));
      long settled = System.nanoTime() + 10_000_000_000L;
      loop(() -> System.nanoTime() >= settled, "warm-up sessions closed");
      users = measured;
      ready = registered = loggedIn = pongs = closedUnexpectedly = loginLatencyCount = 0;
      return failure == null;
    }

    int idle() throws IOException {
      if (probe == null) {
        System.out.println("FAIL: no node process found listening on " + addr(nodes.get(0))
            + " (give --node-pid)");
        return 1;
      }
      NodeProbe.Sample cold = null;
      if (o.warmSessions > 0) {
        cold = probe.sample("cold: no sessions yet", true);
        System.out.println("node:      " + cold);
        if (!warmUp()) return report(null);
      }
      NodeProbe.Sample before = probe.sample(cold == null ? "before: no sessions"
          : "before: warm, no sessions", true);
      System.out.println("node:      " + before);
      // register + log in with heartbeat, every user, at most --login-concurrency at a time
      for (User u : users) jobs.add(u);
      measureStart = System.nanoTime();
      loop(() -> ready == users.length, "all sessions logged in");
      measureEnd = System.nanoTime();
      if (failure != null) return report(null);
      phase = "held";
      System.out.printf(Locale.ROOT, "setup:     %d sessions registered and logged in in %s s%n",
          ready, fmt((measureEnd - measureStart) / 1e9, 1));
      // sample while the loop keeps the sessions alive
      List<NodeProbe.Sample> samples = java.util.Collections.synchronizedList(new ArrayList<>());
      long holdEnd = System.nanoTime() + o.holdS * 1_000_000_000L;
      Thread sampler = new Thread(() -> {
        samples.add(probe.sample("held 0 s", true));
        long t0 = System.nanoTime();
        while (System.nanoTime() + o.sampleS * 1_000_000_000L <= holdEnd) {
          try {
            Thread.sleep(o.sampleS * 1000L);
          } catch (InterruptedException e) {
            return;
          }
          // full GCs at the first and the last sample only (unless --full-gc every): a forced
          // full GC stops the node for seconds, and G1 answers the pause by growing the heap
          boolean last = System.nanoTime() + o.sampleS * 1_000_000_000L > holdEnd;
          samples.add(probe.sample("held " + Math.round((System.nanoTime() - t0) / 1e9) + " s",
              last || o.fullGcEverySample));
        }
        if (o.histogram != null) probe.histogram(o.histogram);
      }, "node-sampler");
      sampler.setDaemon(true);
      sampler.start();
      deadline = Math.max(deadline, holdEnd + 120_000_000_000L);
      loop(() -> System.nanoTime() >= holdEnd && !sampler.isAlive(), "held " + o.holdS + " s");
      sampler.interrupt();
      int closedDuringHold = closedUnexpectedly;
      List<NodeProbe.Sample> held;
      synchronized (samples) {
        held = new ArrayList<>(samples);
      }
      PrintLine out = new PrintLine();
      out.line("idle:      %d sessions held %d s with heartbeat (interval %d s): %d PONGs, %d closed",
          ready, o.holdS, heartbeatIntervalS, pongs, closedDuringHold);
      out.line("node:      %s", before);
      for (NodeProbe.Sample s : held) out.line("node:      %s", s);
      if (held.isEmpty()) return report("no sample of the node while held");
      NodeProbe.Sample first = held.get(0), last = held.get(held.size() - 1);
      double n = ready;
      // per session: at the end of the hold (heartbeats have run), against the node without
      // sessions; "as it runs" = read before the tool forces any GC, "after GC" = after them
      double rssPer = (last.rssKb() - before.rssKb()) * 1024.0 / n;
      double heapPer = (last.heapUsedKb() - before.heapUsedKb()) * 1024.0 / n;
      double livePer = (last.liveKb() - before.liveKb()) * 1024.0 / n;
      // both against the node without sessions after its full GC (its smallest RSS): the
      // reading as it ran then includes its start-up garbage, which is not the sessions' cost
      double runningPer = (last.rssBeforeKb() - before.rssKb()) * 1024.0 / n;
      double runningMaxPer = 0;
      long committedMaxKb = 0;
      out.line("per session at each sample (RSS growth since the node without sessions after"
          + " its full GC ÷ %d):", ready);
      out.line("  %-10s %14s %14s %16s %16s %12s %18s", "sample", "RSS as it runs", "RSS after GC",
          "committed (runs)", "committed (GC)", "live heap", "young GCs/min, eden");
      NodeProbe.Sample previous = null;
      for (NodeProbe.Sample s : held) {
        // young collections per minute since the previous sample, and the eden size now
        String young = previous == null || s.youngGcs() < 0 ? "-" : fmt((s.youngGcs()
            - previous.youngGcs()) / ((s.at() - previous.at()) / 60e9), 1) + ", "
            + s.edenKb() / 1024 + " MB";
        previous = s;
        double running = (s.rssBeforeKb() - before.rssKb()) * 1024.0 / n;
        runningMaxPer = Math.max(runningMaxPer, running);
        committedMaxKb = Math.max(committedMaxKb, s.heapCommittedBeforeKb());
        out.line("  %-10s %12s B %12s B %13d KB %13s KB %10s B %18s",
            s.label().replace("held ", ""), fmt(running, 0),
            s.full() ? fmt((s.rssKb() - before.rssKb()) * 1024.0 / n, 0) : "-",
            s.heapCommittedBeforeKb(), s.full() ? Long.toString(s.heapCommittedKb()) : "-",
            s.full() ? fmt((s.liveKb() - before.liveKb()) * 1024.0 / n, 0) : "-", young);
      }
      double heldMin = (last.at() - first.at()) / 60e9;
      String youngPerMin = heldMin > 0 && first.youngGcs() >= 0
          ? fmt((last.youngGcs() - first.youngGcs()) / heldMin, 1) : "-";
      double heldS = (last.at() - first.at()) / 1e9;
      double growthKb = last.liveKb() - first.liveKb();
      double perMin = heldS > 0 ? growthKb / heldS * 60 : 0;
      double sessionsKb = Math.max(1, first.liveKb() - before.liveKb());
      // flat: the live objects moved by at most 5% of what the sessions hold (or 1 MB)
      String verdict = held.size() < 2 ? "one-sample"
          : Math.abs(growthKb) <= Math.max(1024, 0.05 * sessionsKb) ? "flat"
          : growthKb > 0 ? "growing" : "shrinking";
      out.line("per session: RSS as it runs %s bytes at the end, %s at the worst sample; RSS after"
              + " the forced GCs %s bytes, live heap objects %s bytes, heap used %s bytes (end of"
              + " the hold minus no sessions, %d sessions)",
          fmt(runningPer, 0), fmt(runningMaxPer, 0), fmt(rssPer, 0), fmt(livePer, 0),
          fmt(heapPer, 0), ready);
      String coldMaxPer = "-";
      if (cold != null) {
        // the same readings against the node before the warm-up: what the JIT compiled and
        // the class metadata loaded for logins and heartbeats counted as if per session
        double warmedPer = (before.rssKb() - cold.rssKb()) * 1024.0 / n;
        double coldMax = runningMaxPer + warmedPer;
        out.line("against the cold node (before the warm-up): RSS as it runs %s bytes at the"
                + " end, %s at the worst sample; the warm node without sessions was %d KB above"
                + " it (RSS after full GCs)", fmt(runningPer + warmedPer, 0), fmt(coldMax, 0),
            before.rssKb() - cold.rssKb());
        coldMaxPer = fmt(coldMax, 0);
      }
      out.line("heap over time: live objects %d KB -> %d KB in %s s (%s KB/min): %s",
          first.liveKb(), last.liveKb(), fmt(heldS, 0), fmt(perMin, 1), verdict);
      out.line("per session by class (live objects at the end of the hold minus no sessions, "
          + "bytes and instances per session):");
      List<Map.Entry<String, long[]>> diff = new ArrayList<>();
      for (Map.Entry<String, long[]> e : last.classes.entrySet()) {
        long[] b = before.classes.getOrDefault(e.getKey(), new long[2]);
        diff.add(Map.entry(e.getKey(), new long[] {e.getValue()[0] - b[0], e.getValue()[1] - b[1]}));
      }
      diff.sort((x, y) -> Long.compare(y.getValue()[1], x.getValue()[1]));
      for (int k = 0; k < Math.min(25, diff.size()); k++) {
        long[] d = diff.get(k).getValue();
        out.line("  %8s B  %6s x  %s", fmt(d[1] / n, 0), fmt(d[0] / n, 2), diff.get(k).getKey());
      }
      out.line("RESULT scenario=idle sessions=%d hold_s=%d baseline=%s rss_running_per_session_bytes=%s "
              + "rss_running_max_per_session_bytes=%s committed_running_max_kb=%d "
              + "young_gcs_per_min=%s rss_per_session_bytes=%s "
              + "live_heap_per_session_bytes=%s heap_used_per_session_bytes=%s rss_before_kb=%d "
              + "rss_end_kb=%d live_before_kb=%d live_first_kb=%d live_end_kb=%d "
              + "live_kb_per_min=%s heap=%s closed=%d pongs=%d rss_running_max_vs_cold_per_session_bytes=%s",
          ready, o.holdS, cold == null ? "cold" : "warm", fmt(runningPer, 0),
          fmt(runningMaxPer, 0), committedMaxKb,
          youngPerMin, fmt(rssPer, 0), fmt(livePer, 0), fmt(heapPer, 0), before.rssKb(),
          last.rssKb(), before.liveKb(), first.liveKb(), last.liveKb(), fmt(perMin, 1), verdict,
          closedDuringHold, pongs, coldMaxPer);
      return report(closedDuringHold > 0 ? closedDuringHold + " sessions closed while held" : null);
    }

    // ---------------------------------------------------------------- logins

    int logins() throws IOException {
      boolean token = o.method.equals("token");
      // setup: register everyone (and, for token logins, log in once to get a token)
      for (User u : users) {
        u.wantToken = false;
        jobs.add(u);
      }
      long t0 = System.nanoTime();
      loop(() -> ready == users.length, "all users registered");
      long t1 = System.nanoTime();
      if (failure != null) return report(null);
      System.out.printf(Locale.ROOT, "setup:     %d users registered%s in %s s (%s/s)%n", ready,
          token ? " and logged in once for a token" : "", fmt((t1 - t0) / 1e9, 2),
          fmt(ready / ((t1 - t0) / 1e9), 0));
      for (User u : users) u.closeQuietly();
      if (token) {
        // let the logouts of the setup finish before the measured logins
        long settled = System.nanoTime() + 3_000_000_000L;
        loop(() -> System.nanoTime() >= settled, "the setup's logouts");
      }
      // the measured part: connect + LOGIN, every user, at most --login-concurrency at once;
      // --login-rounds times, everyone closing (and the closes settling) in between
      phase = "measured";
      PrintLine out = new PrintLine();
      List<String> rates = new ArrayList<>();
      double s = 0;
      for (int round = 1; round <= o.loginRounds; round++) {
        if (round > 1) {
          for (User u : users) u.closeQuietly();
          long settled = System.nanoTime() + 3_000_000_000L;
          loop(() -> System.nanoTime() >= settled, "the closes of round " + (round - 1));
        }
        ready = 0;
        loginLatencyCount = 0;
        for (User u : users) {
          u.closed = false;
          u.channel = null;
          u.key = null;
          u.out = null;
          u.partialLength = 0;
          u.step = Step.NEW;
          u.wantToken = token;
          jobs.add(u);
        }
        measureStart = System.nanoTime();
        loop(() -> ready == users.length, "all users logged in");
        measureEnd = System.nanoTime();
        s = (measureEnd - measureStart) / 1e9;
        Arrays.sort(loginLatencies, 0, loginLatencyCount);
        rates.add(fmt(ready / s, 0));
        out.line("logins:    %s%d %s logins (connect + LOGIN, %s at a time) in %s s = %s logins/s; "
                + "connect->ack ms p50 %s p99 %s max %s; 503 %d; hash cost: %s",
            o.loginRounds > 1 ? "round " + round + ": " : "", ready, o.method,
            concurrency == Integer.MAX_VALUE ? "all" : concurrency, fmt(s, 3),
            fmt(ready / s, 0), pct(loginLatencies, loginLatencyCount, 0.5),
            pct(loginLatencies, loginLatencyCount, 0.99), pct(loginLatencies, loginLatencyCount, 1.0),
            setup503, o.hashCost);
        if (ready < users.length) break;
      }
      if (probe != null) out.line("node:      %s", probe.sample("after the logins", true));
      out.line("RESULT scenario=logins method=%s users=%d concurrency=%s logins_per_s=%s p50_ms=%s "
              + "p99_ms=%s retried_503=%d rounds_logins_per_s=%s hash_cost=\"%s\"",
          o.method, ready, concurrency == Integer.MAX_VALUE ? "all" : concurrency, fmt(ready / s, 0),
          pct(loginLatencies, loginLatencyCount, 0.5), pct(loginLatencies, loginLatencyCount, 0.99),
          setup503, String.join(",", rates), o.hashCost);
      return report(ready < users.length ? (users.length - ready) + " users not logged in" : null);
    }

    // ---------------------------------------------------------------- failover

    long killAt;
    long streamStopAt = Long.MAX_VALUE;
    boolean streaming;
    long totalSent, totalAcked, totalFailed, delivered, deliveredOffline, duplicates, reordered,
        misrouted, reconnects, connectFailures;
    long advisedJitterMs = -1;

    int failover() throws IOException {
      long pidA = o.nodePid > 0 ? o.nodePid : NodeProbe.pidListeningOn(nodes.get(0).getPort());
      if (pidA <= 0) {
        System.out.println("FAIL: node A's pid is unknown (give --node-pid)");
        return 1;
      }
      if (pidA == ProcessHandle.current().pid()) return report("--node-pid is this process");
      long listening = NodeProbe.pidListeningOn(nodes.get(0).getPort());
      if (listening != pidA) {
        // never SIGKILL a process that is not the node under test
        return report("--node-pid " + pidA + " is not the process listening on "
            + addr(nodes.get(0)) + " (that is " + (listening > 0 ? "pid " + listening : "none found") + ")");
      }
      // the watcher on B, everyone's friend: it sees every user's PRESENCE
      watcher = new User(-1, o.prefix + "w", 1);
      jobs.add(watcher);
      loop(() -> watcher.step == Step.READY, "the watcher logged in on B");
      if (failure != null) return report(null);
      for (Sender s : senders) jobs.add(s);
      for (User u : users) jobs.add(u);
      long t0 = System.nanoTime();
      loop(() -> ready == users.length + senders.length + 1, "all users on A and their senders on B");
      if (failure != null) return report(null);
      System.out.printf(Locale.ROOT, "setup:     %d users registered, logged in on A and friends of "
              + "the watcher on B, %d senders on B, in %s s%n", users.length, senders.length,
          fmt((System.nanoTime() - t0) / 1e9, 1));
      phase = "stream";
      streaming = true;
      long now = System.nanoTime();
      for (Sender s : senders) s.nextSendAt = now;
      long killTime = now + o.beforeKillS * 1_000_000_000L;
      loop(() -> System.nanoTime() >= killTime, "the stream ran before the kill");
      if (failure != null) return report(null);
      phase = "failover";
      Optional<ProcessHandle> a = ProcessHandle.of(pidA);
      if (a.isEmpty()) return report("node A (pid " + pidA + ") is not running");
      killAt = System.nanoTime();
      a.get().destroyForcibly();
      System.out.printf(Locale.ROOT, "kill:      SIGKILL to node A, pid %d, with %d users on it%n",
          pidA, users.length);
      deadline = Math.max(deadline, killAt + o.timeoutS * 1_000_000_000L);
      loop(() -> allBack(), "every user back on B");
      long allBackAt = System.nanoTime();
      if (failure == null) {
        streamStopAt = allBackAt + o.afterS * 1_000_000_000L;
        loop(() -> System.nanoTime() >= streamStopAt, "the stream ran after the failover");
      }
      streaming = false;
      phase = "drain";
      long drainEnd = System.nanoTime() + o.drainS * 1_000_000_000L;
      loop(() -> streamSettled() || System.nanoTime() >= drainEnd, "the stream drained");
      return failoverReport();
    }

    boolean allBack() {
      for (User u : users) if (u.backAt == 0) return false;
      return true;
    }

    boolean streamSettled() {
      for (int i = 0; i < senders.length; i++) {
        Sender s = senders[i];
        if (s.acked + s.failed < s.sent) return false;
        for (int q = 1; q <= s.sent; q++) {
          if (s.outcome[q] == 1 && users[i].received[q] == 0) return false;
        }
      }
      return true;
    }

    int failoverReport() {
      long[] back = new long[users.length];
      int nBack = 0, nOffline = 0, handedOver = 0, awaySeen = 0, away = 0;
      long lastOffline = 0, lastAwayOffline = 0;
      for (User u : users) {
        if (u.stayAway) {
          away++;
          if (u.offlineSeenAt > killAt) {
            awaySeen++;
            lastAwayOffline = Math.max(lastAwayOffline, u.offlineSeenAt - killAt);
          }
        }
        if (u.backAt > 0) back[nBack++] = u.backAt - killAt;
        if (u.offlineSeenAt > killAt) {
          nOffline++;
          lastOffline = Math.max(lastOffline, u.offlineSeenAt - killAt);
        } else if (u.backAt > 0) {
          handedOver++;
        }
      }
      Arrays.sort(back, 0, nBack);
      long lost = 0, unanswered = 0;
      for (int i = 0; i < senders.length; i++) {
        Sender s = senders[i];
        for (int q = 1; q <= s.sent; q++) {
          if (s.outcome[q] == 0) unanswered++;
          if (s.outcome[q] == 1 && users[i].received[q] == 0) lost++;
        }
      }
      PrintLine out = new PrintLine();
      out.line("offline:   %d/%d users seen offline by a friend on B, the last %s s after the kill; "
              + "%d logged in again before being shown offline (a handover, no PRESENCE)",
          nOffline, users.length, fmt(lastOffline / 1e9, 2), handedOver);
      out.line("offline:   of the %d users that stayed away until shown offline, %d were shown "
          + "offline, the last %s s after the kill", away, awaySeen, fmt(lastAwayOffline / 1e9, 2));
      out.line("back:      %d/%d users logged in again on B with their tokens: p50 %s s, p99 %s s, "
              + "all %s s after the kill; %d reconnects, %d connects refused, %d answered 503, "
              + "%d tokens refused; jitter %d ms (%s)",
          nBack, users.length, pctS(back, nBack, 0.5), pctS(back, nBack, 0.99),
          pctS(back, nBack, 1.0), reconnects, connectFailures, setup503,
          tokenRefused, jitterMs(), advisedJitterMs >= 0 ? "advised by SERVER_CLOSING" : "default");
      out.line("stream:    %d pairs B -> A, %d sent, %d acked, %d refused, %d unanswered, %d delivered "
              + "(%d of them at login), lost %d, duplicates %d, reordered %d, misrouted %d",
          senders.length, totalSent, totalAcked, totalFailed, unanswered, delivered, deliveredOffline,
          lost, duplicates, reordered, misrouted);
      out.line("RESULT scenario=failover users=%d stay_away=%d stay_away_offline=%d "
              + "stay_away_all_offline_s=%s offline_seen=%d all_offline_s=%s handed_over=%d "
              + "back=%d back_p50_s=%s back_p99_s=%s all_back_s=%s reconnects=%d retried_503=%d "
              + "sent=%d acked=%d delivered=%d lost=%d duplicates=%d reordered=%d",
          users.length, away, awaySeen, fmt(lastAwayOffline / 1e9, 2), nOffline,
          fmt(lastOffline / 1e9, 2), handedOver, nBack, pctS(back, nBack, 0.5),
          pctS(back, nBack, 0.99), pctS(back, nBack, 1.0), reconnects, setup503, totalSent,
          totalAcked, delivered, lost, duplicates, reordered);
      String why = failure;
      if (why == null && nBack < users.length) why = (users.length - nBack) + " users not back";
      if (why == null && awaySeen < away) {
        why = (away - awaySeen) + " users that stayed away were never shown offline to their friend";
      }
      if (why == null && lost + duplicates + reordered + misrouted > 0) {
        why = lost + " lost, " + duplicates + " duplicated, " + reordered + " reordered";
      }
      return report(why);
    }

    static String pctS(long[] sorted, int n, double q) {
      if (n == 0) return "-";
      int index = Math.max(0, Math.min(n - 1, (int) Math.ceil(q * n) - 1));
      return fmt(sorted[index] / 1e9, 2);
    }

    long jitterMs() {
      return advisedJitterMs >= 0 ? advisedJitterMs : o.reconnectJitterMs;
    }

    // ---------------------------------------------------------------- the loop

    interface Done {
      boolean done();
    }

    /** Serves every socket until {@code done}, a failure, or the deadline. */
    void loop(Done done, String what) throws IOException {
      while (failure == null && !done.done()) {
        long now = System.nanoTime();
        if (now >= deadline) {
          failure = "timed out after " + o.timeoutS + " s waiting for " + what + " (phase " + phase
              + ", " + ready + " ready)";
          return;
        }
        pumpJobs(now);
        long wake = Math.min(deadline, now + 10_000_000L);
        selector.select(Math.max(1, (wake - now) / 1_000_000L));
        for (SelectionKey key : selector.selectedKeys()) {
          Link c = (Link) key.attachment();
          try {
            if (!key.isValid()) continue;
            if (key.isConnectable()) {
              if (c.channel.finishConnect()) {
                key.interestOps(SelectionKey.OP_READ);
                opened(c);
              }
            }
            if (key.isValid() && key.isWritable()) Link.flush(c);
            if (key.isValid() && key.isReadable() && !Link.read(c, readBuffer, readBytes, this)) {
              lost(c, "end of stream");
            }
          } catch (IOException e) {
            lost(c, e.getMessage());
          }
        }
        selector.selectedKeys().clear();
        timers(System.nanoTime());
      }
    }

    /** Starts queued jobs (connect + request), at most --login-concurrency at once. */
    void pumpJobs(long now) {
      while (activeJobs < concurrency && !jobs.isEmpty() && failure == null) {
        Link c = jobs.poll();
        activeJobs++;
        if (c instanceof User u) {
          u.jobActive = true;
          u.jobStart = now;
        }
        if (c.channel == null || c.closed) {
          connect(c, nodeOf(c));
        } else {
          opened(c);
        }
      }
    }

    void jobDone(Link c) {
      if (c instanceof User u) {
        if (!u.jobActive) return;
        u.jobActive = false;
      }
      activeJobs--;
    }

    int nodeOf(Link c) {
      if (c instanceof User u) return u.node;
      return 1; // senders are on B
    }

    void connect(Link c, int node) {
      try {
        c.closed = false;
        c.out = null;
        c.partialLength = 0;
        c.channel = SocketChannel.open();
        c.channel.configureBlocking(false);
        c.channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
        if (o.sourceIps > 1) {
          int k = (c instanceof User u ? u.index & 0x7fffffff : 0) % o.sourceIps;
          c.channel.bind(new InetSocketAddress(InetAddress.getByAddress(new byte[] {127, 0, 0, (byte) (1 + k)}), 0));
        }
        if (c.channel.connect(nodes.get(node))) {
          c.key = c.channel.register(selector, SelectionKey.OP_READ, c);
          opened(c);
        } else {
          c.key = c.channel.register(selector, SelectionKey.OP_CONNECT, c);
        }
      } catch (IOException e) {
        lost(c, "connect: " + e.getMessage());
      }
    }

    void send(Link c, String json) {
      try {
        Link.write(c, json);
      } catch (IOException e) {
        lost(c, e.getMessage());
      }
    }

    /** The socket is connected: send what the current step needs. */
    void opened(Link c) {
      if (c instanceof Sender s) {
        if (s.step == Step.NEW) {
          s.step = Step.REGISTERING;
          send(s, "{\"msgid\":4,\"name\":" + quote(s.name) + ",\"password\":" + quote(o.password) + "}");
        }
        return;
      }
      User u = (User) c;
      u.connectedSince = System.nanoTime();
      u.nextPingAt = u.connectedSince + heartbeatIntervalS * 1_000_000_000L;
      if (u.id < 0) {
        u.step = Step.REGISTERING;
        send(u, "{\"msgid\":4,\"name\":" + quote(u.name) + ",\"password\":" + quote(o.password) + "}");
      } else {
        login(u);
      }
    }

    void login(User u) {
      u.step = Step.LOGGING_IN;
      StringBuilder b = new StringBuilder(96).append("{\"msgid\":1,");
      if (u.id >= 0) {
        b.append("\"id\":").append(u.id);
      } else {
        b.append("\"name\":").append(quote(u.name));   // the id is not known yet
      }
      if (u.wantToken && u.token != null) {
        b.append(",\"token\":").append(quote(u.token));
      } else {
        b.append(",\"password\":").append(quote(o.password));
      }
      if (o.scenario.equals("idle")) b.append(",\"heartbeat\":true");
      send(u, b.append('}').toString());
    }

    @Override
    public boolean frame(Link c, String frame, long now) {
      Map<String, Object> m;
      try {
        m = Json.object(frame);
      } catch (RuntimeException e) {
        unparsable++;
        note("unparsable reply: " + abbreviate(frame));
        return true;
      }
      int msgid = intOf(m.get("msgid"), -1);
      if (c instanceof Sender s) {
        onSender(s, msgid, m);
      } else {
        onUser((User) c, msgid, m, now);
      }
      return !c.closed && failure == null;
    }

    void onSender(Sender s, int msgid, Map<String, Object> m) {
      switch (msgid) {
        case REG_ACK -> {
          if (intOf(m.get("errno"), -1) != 0) {
            failure = "registration of sender " + s.name + " refused: " + m;
            return;
          }
          s.id = intOf(m.get("id"), -1);
          s.step = Step.LOGGING_IN;
          send(s, "{\"msgid\":1,\"id\":" + s.id + ",\"password\":" + quote(o.password) + "}");
        }
        case LOGIN_ACK -> {
          if (intOf(m.get("errno"), -1) != 0) {
            failure = "login of sender " + s.name + " refused: " + m;
            return;
          }
          s.step = Step.READY;
          ready++;
          jobDone(s);
        }
        case ACK -> {
          int seq = intOf(m.get("seq"), -1);
          if (seq < 1 || seq > s.sent || s.outcome[seq] != 0) return;
          if (intOf(m.get("errno"), 0) == 0) {
            s.outcome[seq] = 1;
            s.acked++;
            totalAcked++;
          } else {
            countError(m);
            s.outcome[seq] = 2;
            s.failed++;
            totalFailed++;
          }
        }
        case ERROR -> {
          countError(m);
          int seq = intOf(m.get("seq"), -1);
          if (s.step != Step.READY) {
            if (intOf(m.get("errno"), -1) == 503) {
              setup503++;
              jobs.add(s);   // start over: REG again (a 503 never created the account)
              s.step = Step.NEW;
              jobDone(s);
              return;
            }
            failure = "sender " + s.name + " got " + m;
            return;
          }
          if (seq >= 1 && seq <= s.sent && s.outcome[seq] == 0) {
            s.outcome[seq] = 2;
            s.failed++;
            totalFailed++;
          }
        }
        default -> { /* PRESENCE and other pushes */ }
      }
    }

    void onUser(User u, int msgid, Map<String, Object> m, long now) {
      switch (msgid) {
        case REG_ACK -> {
          if (intOf(m.get("errno"), -1) != 0) {
            if (u.retries503 == 0) {
              failure = "registration of " + u.name + " refused: " + m;
              return;
            }
            // an earlier REG was answered 503 yet created the account (servers before v1.1)
            u.wantToken = false;
            login(u);
            return;
          }
          u.id = intOf(m.get("id"), -1);
          registered++;
          if (o.scenario.equals("logins") && !o.method.equals("token")) {
            setupDone(u);
          } else {
            login(u);
          }
        }
        case LOGIN_ACK -> onLoginAck(u, m, now);
        case ACK -> {
          if (intOf(m.get("ref"), -1) == ADD_FRIEND && u.step == Step.FRIENDING) {
            if (intOf(m.get("errno"), 0) != 0) {
              failure = u.name + ": ADD_FRIEND refused: " + m;
              return;
            }
            friended++;
            setupDone(u);
          }
        }
        case ONE_CHAT -> onDelivery(u, m, false);
        case PRESENCE -> {
          if (u != watcher || killAt == 0) return;
          int id = intOf(m.get("id"), -1);
          User who = byId(id);
          if (who == null) return;
          if ("offline".equals(m.get("state"))) {
            if (who.offlineSeenAt == 0) who.offlineSeenAt = now;
            if (who.step == Step.PARKED) {
              who.step = Step.WAITING;
              who.reconnectAt = now + (long) (random.nextDouble() * Math.max(1, jitterMs()) * 1e6);
            }
          } else if (who.onlineSeenAt == 0) {
            who.onlineSeenAt = now;
          }
        }
        case ERROR -> {
          countError(m);
          int errno = intOf(m.get("errno"), -1);
          if (errno == 503 && (u.step == Step.REGISTERING || u.step == Step.LOGGING_IN)) {
            // refused with no effect: try again after the advised delay
            setup503++;
            u.retries503++;
            if (u.retries503 > Math.max(o.setupRetries, killAt > 0 ? 1000 : 0)) {
              failure = u.name + ": answered 503 " + u.retries503 + " times";
              return;
            }
            long after = Math.max(1, intOf(m.get("retry_after_ms"), 200));
            u.step = Step.WAITING;
            u.reconnectAt = now + (long) (after * (0.5 + random.nextDouble())) * 1_000_000L;
            jobDone(u);
            return;
          }
          if (u.step != Step.READY) failure = u.name + " got " + m + " in step " + u.step;
        }
        case PONG_ID -> pongs++;
        case SERVER_CLOSING -> {
          note(u.name + " got " + abbreviate(m.toString()) + " in phase " + phase);
          long after = intOf(m.get("reconnect_after_ms"), -1);
          if (after >= 0) advisedJitterMs = after;
        }
        default -> { /* FRIEND pushes and other extensions */ }
      }
    }

    static final int PONG_ID = 101;

    void onLoginAck(User u, Map<String, Object> m, long now) {
      int errno = intOf(m.get("errno"), -1);
      if (errno != 0) {
        if (u.wantToken && errno == 1 && killAt > 0) {
          tokenRefused++;
          u.wantToken = false;    // fall back to the password
          login(u);
          return;
        }
        failure = "login of " + u.name + " refused: " + m;
        return;
      }
      if (u.id < 0) u.id = intOf(m.get("id"), -1);   // logged in by name
      Object t = m.get("token");
      if (t instanceof String s) u.token = s;
      if (m.get("heartbeat") instanceof Map<?, ?> hb) {
        heartbeatIntervalS = Math.max(1, intOf(hb.get("interval"), heartbeatIntervalS));
      }
      if (u.received != null && m.get("offlinemsg") instanceof List<?> stored) {
        for (Object text : stored) {
          try {
            if (text instanceof String s) onDelivery(u, Json.object(s), true);
          } catch (RuntimeException e) {
            unparsable++;
          }
        }
      }
      loggedIn++;
      if (u.jobActive) loginLatencies[Math.min(loginLatencyCount++, loginLatencies.length - 1)] = now - u.jobStart;
      if (killAt > 0) {
        u.backAt = now;
        u.step = Step.READY;
        jobDone(u);
        return;
      }
      if (o.scenario.equals("failover") && u != watcher) {
        u.step = Step.FRIENDING;
        send(u, "{\"msgid\":7,\"friendid\":" + watcher.id + ",\"seq\":1}");
        return;
      }
      setupDone(u);
    }

    void setupDone(User u) {
      u.step = Step.READY;
      ready++;
      if (o.scenario.equals("idle")) {
        u.nextPingAt = System.nanoTime() + (long) (random.nextDouble() * heartbeatIntervalS * 1e9);
      }
      jobDone(u);
    }

    User byId(int id) {
      // users' ids grow with their index in one run; a linear scan is only a fallback
      if (idIndex == null) {
        idIndex = new java.util.HashMap<>();
        for (User u : users) idIndex.put(u.id, u);
      }
      return idIndex.get(id);
    }

    java.util.HashMap<Integer, User> idIndex;

    void onDelivery(User u, Map<String, Object> m, boolean stored) {
      if (u.received == null) return;
      String[] parts = m.get("msg") instanceof String s ? s.split(":", 3) : new String[0];
      int pair, seq;
      try {
        pair = Integer.parseInt(parts[0]);
        seq = Integer.parseInt(parts[1]);
      } catch (RuntimeException e) {
        unparsable++;
        return;
      }
      Sender s = pair >= 0 && pair < senders.length ? senders[pair] : null;
      if (s == null || pair != u.index || seq < 1 || seq > s.sent || intOf(m.get("id"), -1) != s.id) {
        misrouted++;
        note(u.name + ": misrouted " + m);
        return;
      }
      if (u.received[seq] != 0) {
        duplicates++;
        return;
      }
      u.received[seq] = 1;
      if (seq < u.lastReceived) reordered++;
      else u.lastReceived = seq;
      delivered++;
      if (stored) deliveredOffline++;
    }

    /** Pings, paced chat sends and failover reconnects that are due. */
    void timers(long now) {
      if (o.scenario.equals("idle") && now >= nextScanAt) {
        long every = heartbeatIntervalS * 1_000_000_000L;
        for (User u : users) {
          // every open connection, also one whose LOGIN waits for a resend after a 503: a
          // LOGIN with "heartbeat" may have turned the server's liveness check on already
          // (not one still connecting: a reconnect after a 503 under load)
          if (u.channel != null && u.channel.isConnected() && !u.closed && u.nextPingAt <= now) {
            u.nextPingAt = now + every;
            send(u, "{\"msgid\":" + PING + "}");
          }
        }
      }
      if (streaming) {
        long interval = (long) (1e9 / o.rate);
        for (Sender s : senders) {
          while (s.step == Step.READY && s.nextSendAt <= now && s.sent < o.messages
              && s.sent - s.acked - s.failed < o.inflight) {
            s.nextSendAt = Math.max(s.nextSendAt, now - interval) + interval;
            int seq = ++s.sent;
            totalSent++;
            send(s, "{\"msgid\":6,\"toid\":" + users[s.index].id + ",\"msg\":\"" + s.index + ":" + seq
                + ":" + now + "\",\"seq\":" + seq + "}");
          }
        }
      }
      if (now < nextScanAt) return;
      nextScanAt = now + 10_000_000L;
      for (User u : users) {
        if (u.step == Step.PARKED && now - killAt > PARK_MAX_NANOS) {
          u.step = Step.WAITING;    // never shown offline: come back anyway (reported)
          u.reconnectAt = now;
        }
        if (u.step != Step.WAITING || u.reconnectAt > now || u.jobActive) continue;
        if (killAt == 0) {
          u.step = Step.NEW;    // setup: the same request again, ahead of those not yet started
          jobs.addFirst(u);
          continue;
        }
        // failover: a reconnect storm is the point, so no concurrency bound here
        u.attempts++;
        u.wantToken = true;
        u.node = 1;
        u.jobActive = true;
        u.jobStart = now;
        activeJobs++;
        if (u.channel != null && !u.closed && u.channel.isConnected()) {
          login(u);             // the LOGIN was answered 503: send it again
        } else {
          u.step = Step.CONNECTING;
          reconnects++;
          connect(u, 1);
        }
      }
    }

    long nextScanAt;
    /** A user staying away comes back after this long even if nobody saw it offline. */
    static final long PARK_MAX_NANOS = 30_000_000_000L;

    /** A socket closed (or failed to connect). */
    void lost(Link c, String why) {
      if (c.closed) return;
      c.closeQuietly();
      if (c instanceof User u && killAt > 0 && u != watcher) {
        // failover: back off with full jitter (the advised window first, then doubling)
        jobDone(u);
        if (u.step == Step.CONNECTING || u.step == Step.LOGGING_IN && u.node == 1) connectFailures++;
        long window = jitterMs() << Math.min(4, Math.max(0, u.attempts));
        if (u.attempts == 0) window = jitterMs();
        if (u.stayAway && u.offlineSeenAt == 0) {
          u.step = Step.PARKED;   // until a friend sees it offline
          return;
        }
        u.step = Step.WAITING;
        u.backAt = 0;
        u.reconnectAt = System.nanoTime() + (long) (random.nextDouble() * Math.max(1, window) * 1e6);
        return;
      }
      closedUnexpectedly++;
      note((c instanceof User u ? u.name : c instanceof Sender s ? s.name : "?") + " closed ("
          + why + ") in phase " + phase);
      if (!phase.equals("held") || closedUnexpectedly > 100) {
        failure = "a connection closed (" + why + ") in phase " + phase;
      }
    }

    void countError(Map<String, Object> m) {
      errors.merge("errno " + m.get("errno") + " ref " + m.get("ref")
          + (m.get("errmsg") == null ? "" : " (" + m.get("errmsg") + ")"), 1, Integer::sum);
    }

    void note(String s) {
      if (notes.size() < 20) notes.add(s);
    }

    int report(String why) {
      PrintLine out = new PrintLine();
      for (Map.Entry<String, Integer> e : errors.entrySet()) out.line("error:     %d x %s", e.getValue(), e.getKey());
      for (String n : notes) out.line("note:      %s", n);
      out.line("client:    %s s CPU in the load generator, %s s wall", fmt(cpuSeconds(), 2),
          fmt((System.nanoTime() - runStart) / 1e9, 1));
      out.line("machine:   load average %s, %d CPUs", loadAverage(), Runtime.getRuntime().availableProcessors());
      if (why == null) why = failure;
      if (why == null) {
        out.line("PASS");
        return 0;
      }
      out.line("FAIL: %s", why);
      return 1;
    }

    static String addr(InetSocketAddress a) {
      return a.getAddress().getHostAddress() + ":" + a.getPort();
    }
  }

  // ------------------------------------------------------------------ the node measured

  /** A node process on this machine: RSS from /proc, heap from jcmd (same user). */
  static final class NodeProbe {
    final long pid;

    NodeProbe(long pid) {
      this.pid = pid;
    }

    /**
     * One sample. The {@code *BeforeKb} fields are read first, without any GC (the node as it
     * runs: VmRSS and GC.heap_info); the others after the forced full GCs of a full sample
     * (GC.class_histogram, GC.run, then GC.heap_info and VmRSS again), or equal to the
     * first ones with {@code liveKb} -1 for a light sample (no GC forced).
     */
    record Sample(String label, long at, long rssBeforeKb, long heapUsedBeforeKb,
                  long heapCommittedBeforeKb, long youngGcs, long edenKb, boolean full,
                  long rssKb, long heapUsedKb, long heapCommittedKb, long liveKb,
                  Map<String, long[]> classes) {
      @Override
      public String toString() {
        String asRuns = String.format(Locale.ROOT, "%-22s as it runs: VmRSS %d KB, heap used %d KB"
            + " of %d KB committed", label + ":", rssBeforeKb, heapUsedBeforeKb,
            heapCommittedBeforeKb);
        return !full ? asRuns + "; no GC forced"
            : asRuns + String.format(Locale.ROOT, "; after the forced full GCs: VmRSS %d KB, heap"
            + " used %d KB of %d KB committed, live objects %d KB (GC.class_histogram)", rssKb,
            heapUsedKb, heapCommittedKb, liveKb);
      }
    }

    /**
     * The RSS and the heap as the node runs (GC.heap_info, no GC), then, when {@code full}, a
     * full GC with the live objects by class (GC.class_histogram), another (GC.run), the heap
     * in use and committed (GC.heap_info) and the RSS again.
     */
    Sample sample(String label, boolean full) {
      long rssBefore = rssKb();
      long[] heapBefore = heapInfo();
      long[] young = youngGcs();
      if (!full) {
        return new Sample(label, System.nanoTime(), rssBefore, heapBefore[0], heapBefore[1],
            young[0], young[1], false, rssBefore, heapBefore[0], heapBefore[1], -1, Map.of());
      }
      Map<String, long[]> classes = new java.util.HashMap<>();
      long live = 0;
      java.util.regex.Pattern row = java.util.regex.Pattern.compile("^\\s*\\d+:\\s+(\\d+)\\s+(\\d+)\\s+(\\S+)");
      for (String line : jcmd("GC.class_histogram").split("\n")) {
        java.util.regex.Matcher m = row.matcher(line);
        if (m.find()) {
          long bytes = Long.parseLong(m.group(2));
          classes.merge(m.group(3), new long[] {Long.parseLong(m.group(1)), bytes},
              (x, y) -> new long[] {x[0] + y[0], x[1] + y[1]});
          live += bytes;
        }
      }
      jcmd("GC.run");
      long[] heap = heapInfo();
      return new Sample(label, System.nanoTime(), rssBefore, heapBefore[0], heapBefore[1],
          young[0], young[1], true, rssKb(), heap[0], heap[1], live / 1024, classes);
    }

    /**
     * The young collections so far and the eden's current size in KB (the JVM's performance
     * counters, jcmd PerfCounter.print, which forces no GC); -1 when not found.
     */
    long[] youngGcs() {
      long count = -1, eden = -1;
      for (String line : jcmd("PerfCounter.print").split("\n")) {
        if (line.startsWith("sun.gc.collector.0.invocations=")) {
          count = Long.parseLong(line.substring(line.indexOf('=') + 1).trim());
        } else if (line.startsWith("sun.gc.generation.0.space.0.capacity=")) {
          eden = Long.parseLong(line.substring(line.indexOf('=') + 1).trim()) / 1024;
        }
      }
      return new long[] {count, eden};
    }

    /** The heap in use and committed, in KB, from GC.heap_info (which forces no GC). */
    long[] heapInfo() {
      long used = 0, committed = 0;
      // G1, Serial, Parallel: "total 295936K, used 128410K"; Shenandoah: "226M committed, 225M used"
      java.util.regex.Pattern p = java.util.regex.Pattern.compile("total (\\d+)K, used (\\d+)K");
      java.util.regex.Pattern shenandoah =
          java.util.regex.Pattern.compile("(\\d+)([KMG]) committed, (\\d+)([KMG]) used");
      for (String line : jcmd("GC.heap_info").split("\n")) {
        if (line.contains("Metaspace") || line.contains("class space")) continue;
        java.util.regex.Matcher m = p.matcher(line);
        if (m.find()) {
          committed += Long.parseLong(m.group(1));
          used += Long.parseLong(m.group(2));
          continue;
        }
        m = shenandoah.matcher(line);
        if (m.find()) {
          committed += kb(m.group(1), m.group(2));
          used += kb(m.group(3), m.group(4));
        }
      }
      return new long[] {used, committed};
    }

    static long kb(String number, String unit) {
      long n = Long.parseLong(number);
      return switch (unit) {
        case "G" -> n * 1024 * 1024;
        case "M" -> n * 1024;
        default -> n;
      };
    }

    long rssKb() {
      try {
        for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/" + pid + "/status"))) {
          if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
      } catch (IOException | RuntimeException e) {
        // gone
      }
      return -1;
    }

    void histogram(String file) {
      try {
        java.nio.file.Files.writeString(java.nio.file.Path.of(file), jcmd("GC.class_histogram"));
      } catch (IOException e) {
        System.err.println("chat-load: cannot write " + file + ": " + e.getMessage());
      }
    }

    String jcmd(String command) {
      java.nio.file.Path local = java.nio.file.Path.of(System.getProperty("java.home"), "bin", "jcmd");
      String exe = java.nio.file.Files.isExecutable(local) ? local.toString() : "jcmd";
      try {
        Process p = new ProcessBuilder(exe, Long.toString(pid), command).redirectErrorStream(true).start();
        String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)) p.destroyForcibly();
        return text;
      } catch (IOException e) {
        return "";
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return "";
      }
    }

    /** The pid of the process listening on TCP {@code port} (this user's processes), or -1. */
    static long pidListeningOn(int port) {
      java.util.Set<String> inodes = new java.util.HashSet<>();
      for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
        try {
          for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of(table))) {
            String[] f = line.trim().split("\\s+");
            if (f.length < 10 || !f[3].equals("0A")) continue; // LISTEN
            String local = f[1];
            if (Integer.parseInt(local.substring(local.lastIndexOf(':') + 1), 16) == port) inodes.add(f[9]);
          }
        } catch (IOException | RuntimeException e) {
          // no such table
        }
      }
      if (inodes.isEmpty()) return -1;
      java.io.File[] procs = new java.io.File("/proc").listFiles((d, n) -> n.chars().allMatch(Character::isDigit));
      if (procs == null) return -1;
      for (java.io.File proc : procs) {
        java.io.File[] fds = new java.io.File(proc, "fd").listFiles();
        if (fds == null) continue;
        for (java.io.File fd : fds) {
          try {
            String target = java.nio.file.Files.readSymbolicLink(fd.toPath()).toString();
            if (target.startsWith("socket:[") && inodes.contains(target.substring(8, target.length() - 1))) {
              return Long.parseLong(proc.getName());
            }
          } catch (IOException | RuntimeException e) {
            // not ours, or gone
          }
        }
      }
      return -1;
    }

    /** This process's limit on open files, or -1 if unknown. */
    static long openFileLimit() {
      try {
        for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/limits"))) {
          if (line.startsWith("Max open files")) {
            String[] f = line.trim().split("\\s+");
            return Long.parseLong(f[3]);
          }
        }
      } catch (IOException | RuntimeException e) {
        // not Linux
      }
      return -1;
    }
  }

  // ------------------------------------------------------------------ one socket

  /**
   * One non-blocking client socket: requests queued for writing, and the bytes of a reply not
   * yet terminated. Requests end with NUL; replies are split at NUL or newline.
   */
  abstract static class Link {
    SocketChannel channel;
    SelectionKey key;
    boolean closed;
    ArrayDeque<ByteBuffer> out;   // created on the first write that the socket does not take
    byte[] partial = NO_BYTES;     // bytes of an unfinished reply
    int partialLength;

    /** What a frame reader does with each reply; false stops reading this socket for now. */
    interface Frames {
      boolean frame(Link link, String frame, long now);
    }

    /** Writes one request (JSON text + NUL), queueing what the socket does not take. */
    static void write(Link c, String json) throws IOException {
      if (c.closed) return;
      byte[] text = json.getBytes(StandardCharsets.UTF_8);
      ByteBuffer buffer = ByteBuffer.allocate(text.length + 1);
      buffer.put(text).put((byte) 0).flip();
      if (c.out == null) c.out = new ArrayDeque<>(2);
      c.out.add(buffer);
      if (c.out.size() == 1) flush(c);
    }

    static void flush(Link c) throws IOException {
      while (c.out != null && !c.out.isEmpty()) {
        ByteBuffer head = c.out.peek();
        c.channel.write(head);
        if (head.hasRemaining()) {
          if ((c.key.interestOps() & SelectionKey.OP_WRITE) == 0) {
            c.key.interestOps(SelectionKey.OP_READ | SelectionKey.OP_WRITE);
          }
          return;
        }
        c.out.poll();
      }
      if (c.key.interestOps() != SelectionKey.OP_READ) c.key.interestOps(SelectionKey.OP_READ);
    }

    /**
     * Reads what the socket has and hands every complete reply to {@code frames}. Returns
     * false at the end of the stream.
     */
    static boolean read(Link c, ByteBuffer readBuffer, byte[] readBytes, Frames frames)
        throws IOException {
      for (int rounds = 0; rounds < 16; rounds++) {
        readBuffer.clear();
        int n = c.channel.read(readBuffer);
        if (n < 0) return false;
        if (n == 0) return true;
        readBuffer.flip();
        readBuffer.get(readBytes, 0, n);
        long now = System.nanoTime();
        int start = 0;
        for (int i = 0; i < n; i++) {
          byte b = readBytes[i];
          if (b == 0 || b == '\n') {
            String frame;
            if (c.partialLength > 0) {
              append(c, readBytes, start, i - start);
              frame = new String(c.partial, 0, c.partialLength, StandardCharsets.UTF_8);
              c.partialLength = 0;
            } else {
              frame = new String(readBytes, start, i - start, StandardCharsets.UTF_8);
            }
            start = i + 1;
            if (!frame.isBlank() && !frames.frame(c, frame, now)) return true;
          }
        }
        if (start < n) append(c, readBytes, start, n - start);
        if (c.partialLength > 4 * 1024 * 1024) return true;
        if (n < readBuffer.capacity()) return true;
      }
      return true;
    }

    static void append(Link c, byte[] bytes, int from, int length) {
      if (c.partialLength + length > c.partial.length) {
        c.partial = Arrays.copyOf(c.partial, Math.max(c.partialLength + length, c.partial.length * 2 + 256));
      }
      System.arraycopy(bytes, from, c.partial, c.partialLength, length);
      c.partialLength += length;
    }

    /** Closes the socket (once); its key is cancelled. */
    void closeQuietly() {
      closed = true;
      if (key != null) key.cancel();
      if (channel != null) {
        try {
          channel.close();
        } catch (IOException ignored) {
          // closing anyway
        }
      }
    }
  }

  static final byte[] NO_BYTES = new byte[0];

  // ------------------------------------------------------------------ a small JSON reader

  /** Reads one JSON value: objects as maps, arrays as lists, integers as Long. */
  static final class Json {
    private final String s;
    private int i;
    private int depth;

    Json(String s) {
      this.s = s;
    }

    /** Reads a JSON object; anything else is an IllegalArgumentException. */
    static Map<String, Object> object(String text) {
      Object v = new Json(text).parseValue();
      if (!(v instanceof Map)) throw new IllegalArgumentException("not an object");
      @SuppressWarnings("unchecked") Map<String, Object> m = (Map<String, Object>) v;
      return m;
    }

    Object parseValue() {
      Object v = value();
      skipSpace();
      if (i != s.length()) throw new IllegalArgumentException("trailing characters at " + i);
      return v;
    }

    private Object value() {
      skipSpace();
      if (i >= s.length()) throw new IllegalArgumentException("unexpected end");
      char c = s.charAt(i);
      switch (c) {
        case '{':
          return object();
        case '[':
          return array();
        case '"':
          return string();
        case 't':
          return literal("true", Boolean.TRUE);
        case 'f':
          return literal("false", Boolean.FALSE);
        case 'n':
          return literal("null", null);
        default:
          return number();
      }
    }

    private Map<String, Object> object() {
      if (++depth > 64) throw new IllegalArgumentException("too deep");
      Map<String, Object> m = new LinkedHashMap<>();
      i++; // {
      skipSpace();
      if (peek() == '}') {
        i++;
        depth--;
        return m;
      }
      while (true) {
        skipSpace();
        if (peek() != '"') throw new IllegalArgumentException("expected a key at " + i);
        String key = string();
        skipSpace();
        expect(':');
        m.put(key, value());
        skipSpace();
        char c = next();
        if (c == '}') break;
        if (c != ',') throw new IllegalArgumentException("expected , or } at " + (i - 1));
      }
      depth--;
      return m;
    }

    private List<Object> array() {
      if (++depth > 64) throw new IllegalArgumentException("too deep");
      List<Object> list = new ArrayList<>();
      i++; // [
      skipSpace();
      if (peek() == ']') {
        i++;
        depth--;
        return list;
      }
      while (true) {
        list.add(value());
        skipSpace();
        char c = next();
        if (c == ']') break;
        if (c != ',') throw new IllegalArgumentException("expected , or ] at " + (i - 1));
      }
      depth--;
      return list;
    }

    private String string() {
      i++; // opening quote
      StringBuilder b = null;
      int start = i;
      while (true) {
        if (i >= s.length()) throw new IllegalArgumentException("unterminated string");
        char c = s.charAt(i);
        if (c == '"') {
          String out = b == null ? s.substring(start, i) : b.append(s, start, i).toString();
          i++;
          return out;
        }
        if (c == '\\') {
          if (b == null) b = new StringBuilder();
          b.append(s, start, i);
          i++;
          char e = next();
          switch (e) {
            case '"', '\\', '/' -> b.append(e);
            case 'b' -> b.append('\b');
            case 'f' -> b.append('\f');
            case 'n' -> b.append('\n');
            case 'r' -> b.append('\r');
            case 't' -> b.append('\t');
            case 'u' -> {
              if (i + 4 > s.length()) throw new IllegalArgumentException("bad \\u escape");
              b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
              i += 4;
            }
            default -> throw new IllegalArgumentException("bad escape \\" + e);
          }
          start = i;
        } else {
          i++;
        }
      }
    }

    private Object number() {
      int start = i;
      boolean integral = true;
      while (i < s.length()) {
        char c = s.charAt(i);
        if (c >= '0' && c <= '9' || c == '-') {
          i++;
        } else if (c == '.' || c == 'e' || c == 'E' || c == '+') {
          integral = false;
          i++;
        } else {
          break;
        }
      }
      if (start == i) throw new IllegalArgumentException("unexpected character at " + i);
      String t = s.substring(start, i);
      if (integral) {
        try {
          return Long.parseLong(t);
        } catch (NumberFormatException e) {
          // too large for a long
        }
      }
      return Double.parseDouble(t);
    }

    private Object literal(String word, Object v) {
      if (!s.startsWith(word, i)) throw new IllegalArgumentException("unexpected word at " + i);
      i += word.length();
      return v;
    }

    private void skipSpace() {
      while (i < s.length()) {
        char c = s.charAt(i);
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n') break;
        i++;
      }
    }

    private char peek() {
      if (i >= s.length()) throw new IllegalArgumentException("unexpected end");
      return s.charAt(i);
    }

    private char next() {
      char c = peek();
      i++;
      return c;
    }

    private void expect(char c) {
      if (next() != c) throw new IllegalArgumentException("expected " + c + " at " + (i - 1));
    }
  }
}
