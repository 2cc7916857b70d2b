package chat.protocol.bus.user;

import static chat.protocol.bus.BusFields.checkName;
import static chat.protocol.bus.BusFields.checkPassword;

/**
 * Request on {@code chat.user.account.register}: a new account.
 *
 * @param name     1 to {@value #MAX_NAME_LENGTH} characters (code points) once trimmed, no
 *                 control characters; held trimmed
 * @param password 1 to {@value #MAX_PASSWORD_LENGTH} characters, taken as given (the service
 *                 also refuses one shorter than its configured minimum)
 */
public record Register(String name, String password) {

  /** The longest user or group name, in characters (code points). */
  public static final int MAX_NAME_LENGTH = 64;
  public static final int MAX_PASSWORD_LENGTH = 128;

  public Register {
    name = checkName("name", name, MAX_NAME_LENGTH);
    checkPassword("password", password, MAX_PASSWORD_LENGTH);
  }

  /** Reply: the new account's id. */
  public record Reply(int id) {
  }
}
