package chat.cli;

import chat.protocol.wire.MsgId;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One TCP connection to a chat node: newline-terminated JSON both ways. Requests carry a
 * {@code seq}; the reply that echoes it (classic reply, ACK or ERROR) completes the request,
 * everything else goes to the listener. A reader thread reads; writes are serialised.
 */
final class Connection implements AutoCloseable {

  /** What the connection hands up. Called on the reader thread. */
  interface Listener {
    void onMessage(JsonObject message);

    void onClosed(Connection connection, String reason);
  }

  /** A request refused by the server (ERROR) or by a classic reply with errno != 0. */
  static final class Refused extends RuntimeException {
    private final int errno;

    Refused(int errno, String message) {
      super(message);
      this.errno = errno;
    }

    int errno() {
      return errno;
    }
  }

  private static final int MAX_LINE = 4 * 1024 * 1024;

  private final Socket socket;
  private final OutputStream out;
  private final Listener listener;
  private final Duration requestTimeout;
  private final AtomicLong seq = new AtomicLong();
  private final Map<Long, CompletableFuture<JsonObject>> pending = new ConcurrentHashMap<>();
  private final AtomicBoolean closed = new AtomicBoolean();
  private volatile long lastHeard = System.nanoTime();

  private Connection(Socket socket, Listener listener, Duration requestTimeout) throws IOException {
    this.socket = socket;
    this.out = socket.getOutputStream();
    this.listener = listener;
    this.requestTimeout = requestTimeout;
  }

  static Connection open(String host, int port, Listener listener, Duration requestTimeout)
      throws IOException {
    Socket socket = new Socket();
    socket.setTcpNoDelay(true);
    socket.setKeepAlive(true);
    socket.connect(new InetSocketAddress(host, port), (int) Math.min(requestTimeout.toMillis(), 10_000));
    Connection connection = new Connection(socket, listener, requestTimeout);
    Thread reader = new Thread(connection::readLoop, "chat-cli-reader");
    reader.setDaemon(true);
    reader.start();
    return connection;
  }

  /** Sends a request with a fresh seq; completes with the reply or fails with {@link Refused}. */
  CompletableFuture<JsonObject> request(JsonObject message) {
    long id = seq.incrementAndGet();
    CompletableFuture<JsonObject> reply = new CompletableFuture<>();
    pending.put(id, reply);
    try {
      send(message.copy().put("seq", id));
    } catch (IOException e) {
      pending.remove(id);
      reply.completeExceptionally(e);
      return reply;
    }
    return reply.orTimeout(requestTimeout.toMillis(), TimeUnit.MILLISECONDS)
        .whenComplete((r, err) -> pending.remove(id));
  }

  synchronized void send(JsonObject message) throws IOException {
    out.write((message.encode() + "\n").getBytes(StandardCharsets.UTF_8));
    out.flush();
  }

  /** Nanosecond time of the last byte received. */
  long lastHeard() {
    return lastHeard;
  }

  boolean isOpen() {
    return !closed.get();
  }

  private void readLoop() {
    String reason = "closed by the server";
    try (InputStream in = socket.getInputStream()) {
      ByteArrayOutputStream line = new ByteArrayOutputStream();
      byte[] buffer = new byte[16384];
      int n;
      while ((n = in.read(buffer)) > 0) {
        lastHeard = System.nanoTime();
        for (int i = 0; i < n; i++) {
          byte b = buffer[i];
          if (b == '\n' || b == 0) {
            if (line.size() > 0) {
              dispatch(line.toString(StandardCharsets.UTF_8));
              line.reset();
            }
          } else if (line.size() < MAX_LINE) {
            line.write(b);
          }
        }
      }
    } catch (IOException e) {
      reason = closed.get() ? "closed" : e.getMessage();
    } finally {
      end(reason);
    }
  }

  private void dispatch(String text) {
    JsonObject message;
    try {
      message = new JsonObject(text);
    } catch (DecodeException | ClassCastException e) {
      return;
    }
    Object seqValue = message.getValue("seq");
    if (seqValue instanceof Number number) {
      CompletableFuture<JsonObject> reply = pending.remove(number.longValue());
      if (reply != null) {
        Integer msgid = message.getInteger("msgid");
        if (msgid != null && msgid == MsgId.ERROR) {
          reply.completeExceptionally(new Refused(message.getInteger("errno", 0),
              message.getString("errmsg", "error " + message.getValue("errno"))));
        } else {
          reply.complete(message);
        }
        return;
      }
    }
    listener.onMessage(message);
  }

  private void end(String reason) {
    boolean first = closed.compareAndSet(false, true);
    try {
      socket.close();
    } catch (IOException ignored) {
      // closing anyway
    }
    IOException gone = new IOException("connection " + (reason == null ? "closed" : reason));
    pending.values().forEach(reply -> reply.completeExceptionally(gone));
    pending.clear();
    if (first) {
      listener.onClosed(this, reason);
    }
  }

  /** Closes without telling the listener (the caller knows). */
  @Override
  public void close() {
    closed.set(true);
    try {
      socket.close();
    } catch (IOException ignored) {
      // closing anyway
    }
  }
}
