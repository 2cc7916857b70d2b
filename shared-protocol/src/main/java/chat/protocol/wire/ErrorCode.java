package chat.protocol.wire;

/** The {@code errno} values of an ERROR (104) message. */
public final class ErrorCode {

  private ErrorCode() {
  }

  public static final int BAD_REQUEST = 400;
  public static final int NOT_LOGGED_IN = 401;
  public static final int FORBIDDEN = 403;
  public static final int NOT_FOUND = 404;
  public static final int CONFLICT = 409;
  public static final int TOO_LARGE = 413;
  public static final int RATE_LIMITED = 429;
  public static final int INTERNAL = 500;
  public static final int UNAVAILABLE = 503;
  /** The recipient's stored messages are at CHAT_OFFLINE_MAX. */
  public static final int MAILBOX_FULL = 507;
}
