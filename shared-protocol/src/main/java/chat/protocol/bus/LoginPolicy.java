package chat.protocol.bus;

import java.util.Locale;

/**
 * What a login does when the account already has a live session: the setting
 * CHAT_LOGIN_CONFLICT of the gateway, and the {@code policy} field of
 * {@code chat.presence.session.connect}, both written as {@link #wireName()}.
 */
public enum LoginPolicy {
  /** The old sessions are replaced: the gateway kicks them; the user stays online. */
  KICK,
  /** The new login is refused while a session is live (errno 2, as the classic server). */
  REJECT,
  /** Every session stays; messages go to all of them. */
  MULTI;

  /** The name in settings and on the bus: {@code kick}, {@code reject}, {@code multi}. */
  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * The policy named {@code text} (any case, surrounding blanks ignored).
   *
   * @throws IllegalArgumentException naming the accepted names when there is no such policy
   */
  public static LoginPolicy parse(String text) {
    String name = text == null ? "" : text.trim().toUpperCase(Locale.ROOT);
    for (LoginPolicy policy : values()) {
      if (policy.name().equals(name)) {
        return policy;
      }
    }
    throw new IllegalArgumentException("login conflict policy must be one of kick, reject,"
        + " multi; was " + text);
  }
}
