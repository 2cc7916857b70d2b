package chat.protocol.wire;

import io.vertx.core.buffer.Buffer;
import java.util.Objects;

/**
 * Splits a TCP byte stream of UTF-8 JSON objects into frames.
 *
 * <p>Clients end each object with {@code \n} or with a NUL byte (the classic C++ client sends
 * {@code strlen + 1} bytes), or send objects back to back with nothing between them. Whitespace
 * between objects (space, tab, CR, LF, NUL) is ignored. Chunks may split an object anywhere and
 * may hold several objects; every object is reported, in stream order.
 *
 * <p>The framer works on bytes and does not parse JSON: it only tracks the nesting depth of
 * {@code {}} and {@code []} outside string literals, so that braces and quotes inside strings do
 * not count. Since all JSON structural characters are ASCII, multi-byte UTF-8 sequences (whose
 * bytes are all {@code >= 0x80}) pass through untouched. Whether a frame is valid JSON is for the
 * caller to decide when it parses the frame.
 *
 * <p>Errors:
 * <ul>
 *   <li>A raw {@code \n} or NUL while an object is open, or anything other than
 *       <code>&#123;</code> where an object should start, is reported once through
 *       {@link Listener#onMalformed} after the input is discarded up to and including the next
 *       terminator; scanning then resumes.</li>
 *   <li>A pending frame (object or garbage) longer than {@code maxFrameBytes}, terminator not
 *       counted, is reported through {@link Listener#onTooLarge} as soon as the limit is exceeded;
 *       from then on all input is ignored. At most {@code maxFrameBytes} bytes are ever retained.
 *       </li>
 * </ul>
 *
 * <p>Scanning state is kept between chunks, so the total work is linear in the number of bytes
 * even when an object arrives one byte at a time.
 *
 * <p>Not thread-safe: use it from the connection's context only, and do not call
 * {@link #handle} again from inside a listener callback.
 */
public final class JsonStreamFraming {

  /** Receives the outcome of scanning, synchronously and in stream order. */
  public interface Listener {

    /**
     * One complete top-level JSON object, from its <code>'&#123;'</code> to its matching
     * <code>'&#125;'</code>, without terminator. The buffer is a copy the caller may keep.
     */
    void onFrame(Buffer json);

    /** Garbage was discarded up to and including a terminator. */
    void onMalformed(String reason);

    /** The pending frame exceeded the limit; the framer ignores all further input. */
    void onTooLarge();
  }

  /** Where the scanner is between two bytes of the stream. */
  private enum State {
    /** Between frames: skipping whitespace, waiting for <code>'&#123;'</code>. */
    IDLE,
    /** Inside an object. */
    OBJECT,
    /** Discarding bytes that do not start an object, up to the next terminator. */
    GARBAGE,
    /** The limit was exceeded; all input is ignored. */
    CLOSED
  }

  private static final byte LF = '\n';
  private static final byte NUL = 0;

  private final int maxFrameBytes;
  private final Listener listener;

  private State state = State.IDLE;
  private byte lastTerminator = LF;

  /** Bytes of the pending object or garbage seen so far, terminator not counted. */
  private int pendingLength;
  /** Head of an object that began in an earlier chunk; {@code null} when there is none. */
  private Buffer pendingHead;

  // Lexical state of the open object.
  private int depth;
  private boolean inString;
  private boolean escaped;

  /**
   * @param maxFrameBytes the largest object (or garbage run) accepted, in bytes, terminator not
   *     counted; must be positive
   * @param listener receives frames and errors
   */
  public JsonStreamFraming(int maxFrameBytes, Listener listener) {
    if (maxFrameBytes <= 0) {
      throw new IllegalArgumentException("maxFrameBytes must be positive: " + maxFrameBytes);
    }
    this.maxFrameBytes = maxFrameBytes;
    this.listener = Objects.requireNonNull(listener, "listener");
  }

  /** Feeds the next bytes of the stream; calls the listener synchronously, in stream order. */
  public void handle(Buffer chunk) {
    int end = chunk.length();
    int pos = 0;
    while (pos < end) {
      switch (state) {
        case IDLE -> pos = skipWhitespace(chunk, pos, end);
        case OBJECT -> pos = scanObject(chunk, pos, end);
        case GARBAGE -> pos = skipGarbage(chunk, pos, end);
        case CLOSED -> pos = end;
      }
    }
  }

  /**
   * The terminator the client used last: {@code '\n'} until a {@code '\n'} or NUL ending or
   * following a frame has been seen, then that byte.
   */
  public byte lastTerminator() {
    return lastTerminator;
  }

  /** Number of bytes currently held for an incomplete object (for tests of memory bounds). */
  int bufferedBytes() {
    return pendingHead == null ? 0 : pendingHead.length();
  }

  /** Skips inter-frame whitespace; stops at the first byte of an object or of garbage. */
  private int skipWhitespace(Buffer chunk, int pos, int end) {
    for (int i = pos; i < end; i++) {
      byte b = chunk.getByte(i);
      if (isTerminator(b)) {
        lastTerminator = b;
      } else if (b == '{') {
        startPending(State.OBJECT);
        return i;
      } else if (!isBlank(b)) {
        startPending(State.GARBAGE);
        return i;
      }
    }
    return end;
  }

  /**
   * Scans object bytes from {@code pos}; returns the position after the object (and after a
   * terminator directly following it), after a terminator that broke it, or {@code end}.
   */
  private int scanObject(Buffer chunk, int pos, int end) {
    for (int i = pos; i < end; i++) {
      byte b = chunk.getByte(i);
      if (isTerminator(b)) {
        // A raw LF or NUL is never valid inside a JSON text sent by a client on this protocol.
        pendingHead = null;
        return malformed(b, i, "object not closed before terminator");
      }
      if (++pendingLength > maxFrameBytes) {
        return tooLarge(end);
      }
      if (advanceLexer(b)) {
        return completeObject(chunk, pos, i + 1, end);
      }
    }
    retainHead(chunk, pos, end);
    return end;
  }

  /**
   * Updates depth and string state for one byte of an open object.
   *
   * @return whether this byte closed the top-level object
   */
  private boolean advanceLexer(byte b) {
    if (inString) {
      if (escaped) {
        escaped = false;
      } else if (b == '\\') {
        escaped = true;
      } else if (b == '"') {
        inString = false;
      }
      return false;
    }
    switch (b) {
      case '"' -> inString = true;
      case '{', '[' -> depth++;
      case '}', ']' -> {
        return --depth == 0;
      }
      default -> {
        // other bytes do not affect the structure
      }
    }
    return false;
  }

  /**
   * Emits the object whose tail is {@code chunk[from, to)}. A terminator directly following it in
   * this chunk is consumed first, so that a reply written from {@code onFrame} already uses it.
   */
  private int completeObject(Buffer chunk, int from, int to, int end) {
    Buffer frame = takeFrame(chunk, from, to);
    int next = to;
    if (next < end && isTerminator(chunk.getByte(next))) {
      lastTerminator = chunk.getByte(next);
      next++;
    }
    state = State.IDLE;
    listener.onFrame(frame);
    return next;
  }

  /** Discards garbage up to and including the next terminator. */
  private int skipGarbage(Buffer chunk, int pos, int end) {
    for (int i = pos; i < end; i++) {
      byte b = chunk.getByte(i);
      if (isTerminator(b)) {
        return malformed(b, i, "expected '{' at the start of a JSON object");
      }
      if (++pendingLength > maxFrameBytes) {
        return tooLarge(end);
      }
    }
    return end;
  }

  private void startPending(State next) {
    state = next;
    pendingLength = 0;
    pendingHead = null;
    depth = 0;
    inString = false;
    escaped = false;
  }

  /** Keeps {@code chunk[from, to)} as part of an object that continues in a later chunk. */
  private void retainHead(Buffer chunk, int from, int to) {
    if (pendingHead == null) {
      pendingHead = Buffer.buffer(to - from);
    }
    pendingHead.appendBuffer(chunk, from, to - from);
  }

  /** The complete object: any retained head followed by {@code chunk[from, to)}, as a copy. */
  private Buffer takeFrame(Buffer chunk, int from, int to) {
    if (pendingHead == null) {
      return chunk.getBuffer(from, to);
    }
    Buffer frame = pendingHead.appendBuffer(chunk, from, to - from);
    pendingHead = null;
    return frame;
  }

  /** Reports garbage ended by the terminator at {@code index}; resumes after it. */
  private int malformed(byte terminator, int index, String reason) {
    lastTerminator = terminator;
    state = State.IDLE;
    listener.onMalformed(reason);
    return index + 1;
  }

  /** Reports the exceeded limit once and stops scanning for good. */
  private int tooLarge(int end) {
    state = State.CLOSED;
    pendingHead = null;
    listener.onTooLarge();
    return end;
  }

  private static boolean isTerminator(byte b) {
    return b == LF || b == NUL;
  }

  private static boolean isBlank(byte b) {
    return b == ' ' || b == '\t' || b == '\r';
  }
}
