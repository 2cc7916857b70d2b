package chat.protocol.bus;

import chat.protocol.wire.ErrorCode;

/**
 * Failure codes carried by event-bus replies ({@code msg.fail(code, text)}).
 * 11xx: the request was refused for a reason the client can act on.
 * 12xx: the service failed.
 */
public final class FailureCodes {

  private FailureCodes() {
  }

  public static final int INVALID_INPUT = 1100;
  public static final int BAD_CREDENTIALS = 1101;
  public static final int NAME_TAKEN = 1102;
  public static final int NO_SUCH_USER = 1103;
  public static final int NO_SUCH_GROUP = 1104;
  public static final int NOT_A_MEMBER = 1105;
  public static final int ALREADY_ONLINE = 1106;
  public static final int NO_SESSION = 1107;
  public static final int NO_SUCH_MESSAGE = 1108;
  public static final int MAILBOX_FULL = 1109;

  public static final int INTERNAL = 1200;
  public static final int DATABASE_UNAVAILABLE = 1201;
  /** Refused at once, before any work, because the service is at capacity: try again later. */
  public static final int OVERLOADED = 1202;
  /**
   * The service could not start the work (a part it needs, such as its cluster member, is not
   * there now): nothing was done, try again later.
   */
  public static final int SERVICE_UNAVAILABLE = 1203;

  /** The ERROR errno a client sees for a request refused with this code. */
  public static int errnoOf(int failureCode) {
    return switch (failureCode) {
      case INVALID_INPUT -> ErrorCode.BAD_REQUEST;
      case BAD_CREDENTIALS -> ErrorCode.NOT_LOGGED_IN;
      case NAME_TAKEN, ALREADY_ONLINE -> ErrorCode.CONFLICT;
      case NO_SUCH_USER, NO_SUCH_GROUP, NO_SESSION, NO_SUCH_MESSAGE -> ErrorCode.NOT_FOUND;
      case MAILBOX_FULL -> ErrorCode.MAILBOX_FULL;
      case NOT_A_MEMBER -> ErrorCode.FORBIDDEN;
      case DATABASE_UNAVAILABLE, OVERLOADED, SERVICE_UNAVAILABLE -> ErrorCode.UNAVAILABLE;
      default -> ErrorCode.INTERNAL;
    };
  }
}
