package chat.protocol.bus;

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

  public static final int INTERNAL = 1200;
  public static final int DATABASE_UNAVAILABLE = 1201;
}
