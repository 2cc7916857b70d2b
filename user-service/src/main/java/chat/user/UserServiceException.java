package chat.user;

/**
 * A refusal or failure with a {@link chat.protocol.bus.FailureCodes} code, replied to the caller
 * as {@code msg.fail(code, message)}. It carries no stack trace: it is an expected outcome.
 */
public final class UserServiceException extends RuntimeException {

  private final int code;

  public UserServiceException(int code, String message) {
    super(message, null, false, false);
    this.code = code;
  }

  public int code() {
    return code;
  }
}
