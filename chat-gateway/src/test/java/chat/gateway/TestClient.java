package chat.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A blocking TCP client of the gateway: NUL-terminated JSON out, every frame in goes to a
 * queue read by {@link #next} (a reader thread keeps reading unless {@code reading} is off).
 */
final class TestClient implements AutoCloseable {

  private static final JsonObject CLOSED = new JsonObject().put("closed", true);

  final Socket socket;
  private final OutputStream out;
  private final BlockingQueue<JsonObject> frames = new LinkedBlockingQueue<>();
  private volatile boolean closedByServer;

  private TestClient(Socket socket, boolean reading) throws IOException {
    this.socket = socket;
    this.out = socket.getOutputStream();
    if (reading) {
      startReading();
    }
  }

  /** Starts reading (for a client connected without a reader: once it reads again). */
  void startReading() {
    Thread reader = new Thread(this::readLoop, "test-client-reader");
    reader.setDaemon(true);
    reader.start();
  }

  static TestClient connect(int port) {
    return connect(port, true, 0);
  }

  /** A client that reads (or not), with a small receive buffer when {@code receiveBuffer} > 0. */
  static TestClient connect(int port, boolean reading, int receiveBuffer) {
    try {
      Socket socket = new Socket();
      if (receiveBuffer > 0) {
        socket.setReceiveBufferSize(receiveBuffer);
      }
      socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
      socket.setTcpNoDelay(true);
      return new TestClient(socket, reading);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void readLoop() {
    try {
      InputStream in = socket.getInputStream();
      ByteArrayOutputStream current = new ByteArrayOutputStream();
      byte[] buffer = new byte[65536];
      int n;
      while ((n = in.read(buffer)) > 0) {
        for (int i = 0; i < n; i++) {
          if (buffer[i] == 0 || buffer[i] == '\n') {
            if (current.size() > 0) {
              frames.add(new JsonObject(current.toString(StandardCharsets.UTF_8)));
              current.reset();
            }
          } else {
            current.write(buffer[i]);
          }
        }
      }
    } catch (IOException e) {
      // closed
    }
    closedByServer = true;
    frames.add(CLOSED);
  }

  boolean closedByServer() {
    return closedByServer;
  }

  void send(JsonObject request) {
    sendRaw((request.encode() + "\0").getBytes(StandardCharsets.UTF_8));
  }

  void sendRaw(byte[] bytes) {
    try {
      out.write(bytes);
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The next frame, or null after the timeout. */
  JsonObject next(long timeoutMs) {
    try {
      JsonObject frame = frames.poll(timeoutMs, TimeUnit.MILLISECONDS);
      return frame == CLOSED ? null : frame;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  /** The next frame with this msgid (others before it are skipped). */
  JsonObject expect(int msgid) {
    long deadline = System.currentTimeMillis() + 10_000;
    while (System.currentTimeMillis() < deadline) {
      JsonObject frame = next(deadline - System.currentTimeMillis());
      if (frame != null && frame.getInteger("msgid") == msgid) {
        return frame;
      }
      if (frame == null && closedByServer) {
        break;
      }
    }
    throw new AssertionError("no message " + msgid + " arrived");
  }

  JsonObject login(int id, JsonObject extra) {
    send(new JsonObject().put("msgid", 1).put("id", id).put("password", "pw").mergeIn(extra));
    JsonObject ack = expect(2);
    assertNotNull(ack);
    assertEquals(0, ack.getInteger("errno"), ack.encode());
    return ack;
  }

  JsonObject login(int id) {
    return login(id, new JsonObject());
  }

  /** Closes with a reset, as a client that dies with unread data does. */
  void crash() {
    try {
      socket.setSoLinger(true, 0);
      socket.close();
    } catch (IOException e) {
      // gone
    }
  }

  @Override
  public void close() {
    try {
      socket.close();
    } catch (IOException e) {
      // gone
    }
  }
}
