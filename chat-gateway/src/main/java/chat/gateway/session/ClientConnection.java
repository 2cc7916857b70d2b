package chat.gateway.session;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;

/** One client socket as a session sees it, whatever the transport. */
public interface ClientConnection {

  /** {@code tcp} or {@code ws}. */
  String transport();

  /** The peer's address, for logs. */
  String remoteAddress();

  /** Writes one message (its compact JSON text, in UTF-8) as one frame. */
  Future<Void> write(Buffer json);

  /**
   * Writes a last message and closes the connection so that the peer still reads it
   * (TCP: half-close after the write is flushed, then close; WebSocket: the given close code).
   * The future completes once the message is written and the closing has begun.
   */
  Future<Void> writeAndClose(String json, short webSocketCloseCode);

  /** Closes the connection now. */
  Future<Void> close();

  /**
   * Closes the connection at once, dropping what the process still queues for it (not what
   * the kernel already took): for a peer that does not read, whose socket would never take
   * the rest. Those writes fail, so their chats are kept for the next login.
   */
  default Future<Void> closeNow() {
    return close();
  }

  /** Stops reading from the socket (the session holds enough unhandled requests). */
  default void pause() {
  }

  /** Reads from the socket again. */
  default void resume() {
  }
}
