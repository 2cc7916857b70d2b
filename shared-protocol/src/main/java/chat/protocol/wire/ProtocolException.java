package chat.protocol.wire;

/** A request that is answered with an ERROR (104) carrying {@link #errno()}. */
public final class ProtocolException extends RuntimeException {

  private final int errno;
  private final long retryAfterMs;

  public ProtocolException(int errno, String message) {
    this(errno, message, 0);
  }

  /** An ERROR that tells the client when to try again ({@code retry_after_ms}). */
  public ProtocolException(int errno, String message, long retryAfterMs) {
    super(message, null, false, false);
    this.errno = errno;
    this.retryAfterMs = retryAfterMs;
  }

  public int errno() {
    return errno;
  }

  /** When the client may try again, in ms; 0 when the ERROR does not say. */
  public long retryAfterMs() {
    return retryAfterMs;
  }

  public static ProtocolException badRequest(String message) {
    return new ProtocolException(ErrorCode.BAD_REQUEST, message);
  }
}
