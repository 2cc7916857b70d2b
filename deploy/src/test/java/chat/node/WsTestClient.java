package chat.node;

import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/** A WebSocket client (the JDK's) speaking one JSON object per text frame. */
final class WsTestClient extends TestClient implements WebSocket.Listener {

  private final WebSocket socket;
  private final StringBuilder partial = new StringBuilder();
  private volatile Integer closeCode;

  private WsTestClient(int port) throws Exception {
    this(HttpClient.newHttpClient(), URI.create("ws://127.0.0.1:" + port + "/ws"));
  }

  private WsTestClient(HttpClient http, URI uri) throws Exception {
    this.socket = http.newWebSocketBuilder().buildAsync(uri, this).get(10, TimeUnit.SECONDS);
  }

  /** A client of {@code uri} through the given HTTP client (wss:// with its TLS settings). */
  static WsTestClient connect(HttpClient http, URI uri) {
    try {
      return new WsTestClient(http, uri);
    } catch (Exception e) {
      throw new IllegalStateException("WebSocket connect failed", e);
    }
  }

  static WsTestClient connect(int httpPort) {
    try {
      return new WsTestClient(httpPort);
    } catch (Exception e) {
      throw new IllegalStateException("WebSocket connect failed", e);
    }
  }

  @Override
  void send(JsonObject message) {
    sendText(message.encode());
  }

  synchronized void sendText(String text) {
    socket.sendText(text, true).join();
  }

  synchronized void sendBinary(byte[] data) {
    socket.sendBinary(ByteBuffer.wrap(data), true).join();
  }

  Integer closeCode() {
    return closeCode;
  }

  @Override
  public void close() {
    socket.abort();
  }

  @Override
  public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
    partial.append(data);
    if (last) {
      received(new JsonObject(partial.toString()));
      partial.setLength(0);
    }
    webSocket.request(1);
    return null;
  }

  @Override
  public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
    closeCode = statusCode;
    ended();
    return CompletableFuture.completedFuture(null);
  }

  @Override
  public void onError(WebSocket webSocket, Throwable error) {
    ended();
  }
}
