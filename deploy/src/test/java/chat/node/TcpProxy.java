package chat.node;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP proxy on loopback that a test can cut (every connection closed, new ones refused)
 * and restore: a database that becomes unreachable for a while. With several targets it
 * is a front that fails over: each new connection goes to the first target that accepts it
 * (a load balancer in front of nodes, one of which dies).
 */
final class TcpProxy implements AutoCloseable {

  private final int port;
  private final String targetHost;
  private final List<Integer> targetPorts;
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();
  /**
   * Every byte clients sent through the proxy, in order (what a client put on the wire), once
   * {@link #recordingClients} asked for it: a proxy in front of a database for half an hour
   * would otherwise keep every statement.
   */
  private final ByteArrayOutputStream fromClients = new ByteArrayOutputStream();
  private volatile boolean recording;
  private volatile ServerSocket server;
  private volatile boolean paused;

  TcpProxy(String targetHost, int targetPort) {
    this(targetHost, List.of(targetPort));
  }

  /** A front for several targets, tried in this order for each new connection. */
  TcpProxy(String targetHost, List<Integer> targetPorts) {
    this.port = TestNodes.freePort();
    this.targetHost = targetHost;
    this.targetPorts = List.copyOf(targetPorts);
    restore();
  }

  int port() {
    return port;
  }

  /** A proxy in front of the database of a {@code mysql://} URL. */
  static TcpProxy inFrontOf(String dbUrl) {
    java.net.URI direct = java.net.URI.create(dbUrl);
    return new TcpProxy(direct.getHost(), direct.getPort());
  }

  /** The same {@code mysql://} URL, through this proxy. */
  String through(String dbUrl) {
    java.net.URI direct = java.net.URI.create(dbUrl);
    return "mysql://" + direct.getRawUserInfo() + "@127.0.0.1:" + port + direct.getPath();
  }

  /** Closes every connection and refuses new ones. */
  synchronized void cut() {
    try {
      server.close();
    } catch (IOException ignored) {
      // closing anyway
    }
    sockets.forEach(s -> {
      try {
        s.close();
      } catch (IOException ignored) {
        // closing anyway
      }
    });
    sockets.clear();
  }

  /**
   * Stalls every byte in both directions without closing anything (a database that hangs):
   * connections stay open, and new ones are accepted but get no answer, until
   * {@link #resume}.
   */
  void pause() {
    paused = true;
  }

  void resume() {
    paused = false;
  }

  /** Accepts connections again. */
  synchronized void restore() {
    if (server != null && !server.isClosed()) {
      return;
    }
    // The port may stay taken for a moment after the cut (the closed connections' ends):
    // try again for a bounded time.
    long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
    while (true) {
      try {
        ServerSocket socket = new ServerSocket();
        socket.setReuseAddress(true);
        socket.bind(new InetSocketAddress("127.0.0.1", port));
        server = socket;
        break;
      } catch (IOException e) {
        if (System.nanoTime() > deadline) {
          throw new UncheckedIOException(e);
        }
        try {
          Thread.sleep(50);
        } catch (InterruptedException interrupted) {
          Thread.currentThread().interrupt();
          throw new UncheckedIOException(e);
        }
      }
    }
    ServerSocket current = server;
    Thread acceptor = new Thread(() -> accept(current), "proxy-accept-" + port);
    acceptor.setDaemon(true);
    acceptor.start();
  }

  private void accept(ServerSocket listening) {
    while (!listening.isClosed()) {
      try {
        Socket client = listening.accept();
        Socket upstream = connectUpstream();
        if (upstream == null) {
          client.close();
          continue;
        }
        sockets.add(client);
        sockets.add(upstream);
        pump(client, upstream, this, recording ? fromClients : null);
        pump(upstream, client, this, null);
      } catch (IOException e) {
        return;
      }
    }
  }

  /** The first target that accepts a connection, or null when none does. */
  private Socket connectUpstream() {
    for (int targetPort : targetPorts) {
      try {
        return new Socket(targetHost, targetPort);
      } catch (IOException refused) {
        // try the next one
      }
    }
    return null;
  }

  /** Keeps what clients send from now on, for {@link #sentByClients}. */
  TcpProxy recordingClients() {
    recording = true;
    return this;
  }

  /** What clients have sent so far (since {@link #recordingClients}), as text. */
  String sentByClients() {
    synchronized (fromClients) {
      return fromClients.toString(StandardCharsets.UTF_8);
    }
  }

  private static void pump(Socket from, Socket to, TcpProxy proxy, ByteArrayOutputStream record) {
    Thread thread = new Thread(() -> {
      byte[] buffer = new byte[16384];
      try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
        int n;
        while ((n = in.read(buffer)) > 0) {
          while (proxy.paused) {
            Thread.sleep(5);
          }
          if (record != null) {
            synchronized (record) {
              record.write(buffer, 0, n);
            }
          }
          out.write(buffer, 0, n);
        }
      } catch (IOException ignored) {
        // one side closed
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } finally {
        proxy.sockets.remove(to);
        proxy.sockets.remove(from);
        try {
          to.close();
          from.close();
        } catch (IOException ignored) {
          // already closed
        }
      }
    }, "proxy-pump");
    thread.setDaemon(true);
    thread.start();
  }

  @Override
  public void close() {
    cut();
  }
}
