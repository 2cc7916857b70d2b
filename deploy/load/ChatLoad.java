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

    static void usage() {
      System.out.println(String.join("\n",
          "usage: java deploy/load/ChatLoad.java [options]",
          "",
          "  --scenario default|classic  default: each sender on node i, its receiver on node",
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
        default -> throw new IllegalArgumentException("--scenario must be default or classic");
      }
      if ((long) o.pairs * o.messages > 50_000_000L) {
        throw new IllegalArgumentException("--pairs x --messages is limited to 50,000,000");
      }
      o.nodes = parseNodes(nodes == null ? "127.0.0.1:6001,127.0.0.1:6002" : nodes);
      if (o.classic) {
        o.nodes = List.of(o.nodes.get(0));
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
  final class Conn {
    final Pair pair;
    final boolean sender;
    final InetSocketAddress node;
    final String name;
    SocketChannel channel;
    SelectionKey key;
    int userId = -1;
    boolean connected, registered, loggedIn, closed;
    boolean requestPending;       // a REG or LOGIN awaiting its reply
    int setupRetries;             // REG/LOGIN resent after a 503
    boolean registrationUncertain; // a REG was answered 503: the account may exist anyway
    final ArrayDeque<ByteBuffer> out = new ArrayDeque<>();
    byte[] partial = new byte[0]; // bytes of an unfinished reply
    int partialLength;

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
      status = new ChatLoad(options).run();
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
    if (c.closed) return;
    byte[] text = json.getBytes(StandardCharsets.UTF_8);
    ByteBuffer buffer = ByteBuffer.allocate(text.length + 1);
    buffer.put(text).put((byte) 0).flip();
    c.out.add(buffer);
    if (c.out.size() == 1) {
      try {
        flush(c);
      } catch (IOException e) {
        connectionLost(c, e.getMessage());
      }
    }
  }

  void flush(Conn c) throws IOException {
    while (!c.out.isEmpty()) {
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

  void read(Conn c) throws IOException {
    for (int rounds = 0; rounds < 16; rounds++) {
      readBuffer.clear();
      int n = c.channel.read(readBuffer);
      if (n < 0) {
        connectionLost(c, "end of stream");
        return;
      }
      if (n == 0) return;
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
          if (!frame.isBlank()) handleFrame(c, frame, now);
          if (c.closed || failure != null) return;
        }
      }
      if (start < n) append(c, readBytes, start, n - start);
      if (c.partialLength > 4 * 1024 * 1024) {
        fail(c.label() + ": a reply longer than 4 MiB without a terminator");
        return;
      }
      if (n < readBuffer.capacity()) return;
    }
  }

  static void append(Conn c, byte[] bytes, int from, int length) {
    if (c.partialLength + length > c.partial.length) {
      c.partial = Arrays.copyOf(c.partial, Math.max(c.partialLength + length, c.partial.length * 2 + 256));
    }
    System.arraycopy(bytes, from, c.partial, c.partialLength, length);
    c.partialLength += length;
  }

  // ------------------------------------------------------------------ replies

  void handleFrame(Conn c, String frame, long now) {
    Map<String, Object> m;
    try {
      Object v = new Json(frame).parseValue();
      if (!(v instanceof Map)) throw new IllegalArgumentException("not an object");
      @SuppressWarnings("unchecked") Map<String, Object> obj = (Map<String, Object>) v;
      m = obj;
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
            + "rate_limited=%d errors=%d setup_503=%d",
        o.scenario, o.nodes.size(), o.pairs, o.messages, o.inflight, o.rate > 0 ? fmt(o.rate, 0) : "0",
        totalSent, totalDelivered, fmt(msgS, 3), fmt(rate, 0),
        pct(latencies, latencyCount, 0.50), pct(latencies, latencyCount, 0.90),
        pct(latencies, latencyCount, 0.99), pct(latencies, latencyCount, 1.0),
        fmt(setupUsers / regS, 0), fmt(setupUsers / loginS, 0),
        lost, duplicates, reordered, gaps, totalRejected, totalFailed, setupUnavailable);

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

  // ------------------------------------------------------------------ a small JSON reader

  /** Reads one JSON value: objects as maps, arrays as lists, integers as Long. */
  static final class Json {
    private final String s;
    private int i;
    private int depth;

    Json(String s) {
      this.s = s;
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
