package chat.protocol.bus;

/**
 * A refusal or failure with a {@link FailureCodes} code, replied to the caller of a bus
 * request as {@code msg.fail(code, message)}. It carries no stack trace: it is an expected
 * outcome.
 */
public final class ServiceFailure extends RuntimeException {

  private final int code;

  public ServiceFailure(int code, String message) {
    super(message, null, false, false);
    this.code = code;
  }

  public int code() {
    return code;
  }
}
