package chat.node;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP proxy on loopback that a test can cut (every connection closed, new ones refused)
 * and restore: a database that becomes unreachable for a while.
 */
final class TcpProxy implements AutoCloseable {

  private final int port;
  private final String targetHost;
  private final int targetPort;
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();
  private volatile ServerSocket server;
  private volatile boolean paused;

  TcpProxy(String targetHost, int targetPort) {
    this.port = TestNodes.freePort();
    this.targetHost = targetHost;
    this.targetPort = targetPort;
    restore();
  }

  int port() {
    return port;
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
    try {
      ServerSocket socket = new ServerSocket();
      socket.setReuseAddress(true);
      socket.bind(new InetSocketAddress("127.0.0.1", port));
      server = socket;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
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
        Socket upstream = new Socket(targetHost, targetPort);
        sockets.add(client);
        sockets.add(upstream);
        pump(client, upstream, this);
        pump(upstream, client, this);
      } catch (IOException e) {
        return;
      }
    }
  }

  private static void pump(Socket from, Socket to, TcpProxy proxy) {
    Thread thread = new Thread(() -> {
      byte[] buffer = new byte[16384];
      try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
        int n;
        while ((n = in.read(buffer)) > 0) {
          while (proxy.paused) {
            Thread.sleep(5);
          }
          out.write(buffer, 0, n);
        }
      } catch (IOException ignored) {
        // one side closed
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } finally {
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
