package chat.protocol.wire;

/** A request that is answered with an ERROR (104) carrying {@link #errno()}. */
public final class ProtocolException extends RuntimeException {

  private final int errno;

  public ProtocolException(int errno, String message) {
    super(message, null, false, false);
    this.errno = errno;
  }

  public int errno() {
    return errno;
  }

  public static ProtocolException badRequest(String message) {
    return new ProtocolException(ErrorCode.BAD_REQUEST, message);
  }
}
