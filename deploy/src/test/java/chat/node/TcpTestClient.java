package chat.node;

import chat.protocol.wire.JsonStreamFraming;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/** A TCP client that frames its requests like the classic client (NUL) or with newlines. */
final class TcpTestClient extends TestClient {

  private final Socket socket;
  private final OutputStream out;
  private final byte terminator;

  private TcpTestClient(int port, byte terminator) throws IOException {
    this(new Socket("127.0.0.1", port), terminator);
  }

  private TcpTestClient(Socket socket, byte terminator) throws IOException {
    this.socket = socket;
    this.socket.setTcpNoDelay(true);
    this.out = socket.getOutputStream();
    this.terminator = terminator;
    Thread reader = new Thread(this::readLoop, "tcp-test-client-" + socket.getLocalPort());
    reader.setDaemon(true);
    reader.start();
  }

  /** A client ending each request with NUL, as the classic C++ client does. */
  static TcpTestClient classic(int port) {
    return open(port, (byte) 0);
  }

  /** A newline client on an already connected socket (a TLS one, say). */
  static TcpTestClient over(Socket socket) {
    try {
      return new TcpTestClient(socket, (byte) '\n');
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A client ending each request with a newline. */
  static TcpTestClient lines(int port) {
    return open(port, (byte) '\n');
  }

  private static TcpTestClient open(int port, byte terminator) {
    try {
      return new TcpTestClient(port, terminator);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  void send(JsonObject message) {
    byte[] text = message.encode().getBytes(StandardCharsets.UTF_8);
    byte[] frame = new byte[text.length + 1];
    System.arraycopy(text, 0, frame, 0, text.length);
    frame[text.length] = terminator;
    sendRaw(frame);
  }

  void sendRaw(byte[] bytes) {
    try {
      synchronized (out) {
        out.write(bytes);
        out.flush();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  void sendRaw(String text) {
    sendRaw(text.getBytes(StandardCharsets.UTF_8));
  }

  /** Closes with a reset (SO_LINGER 0), as a crashed client's kernel would. */
  void abort() {
    if (socket.isClosed()) {
      return;
    }
    try {
      socket.setSoLinger(true, 0);
      socket.close();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    try {
      socket.close();
    } catch (IOException ignored) {
      // already closed
    }
  }

  private void readLoop() {
    JsonStreamFraming framing = new JsonStreamFraming(16 * 1024 * 1024,
        new JsonStreamFraming.Listener() {
          @Override
          public void onFrame(Buffer json) {
            received(new JsonObject(json));
          }

          @Override
          public void onMalformed(String reason) {
            received(new JsonObject().put("msgid", -1).put("malformed", reason));
          }

          @Override
          public void onTooLarge() {
            received(new JsonObject().put("msgid", -1).put("malformed", "too large"));
          }
        });
    byte[] buffer = new byte[64 * 1024];
    try (InputStream in = socket.getInputStream()) {
      int n;
      while ((n = in.read(buffer)) > 0) {
        framing.handle(Buffer.buffer().appendBytes(buffer, 0, n));
      }
    } catch (IOException ignored) {
      // closed or reset: either way the connection is over
    } finally {
      ended();
    }
  }
}
