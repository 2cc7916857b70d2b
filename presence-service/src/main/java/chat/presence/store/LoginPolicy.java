package chat.presence.store;

/** What a login does when the account already has a live session (CHAT_LOGIN_CONFLICT). */
public enum LoginPolicy {
  /** The old sessions are replaced: the gateway kicks them; the user stays online. */
  KICK,
  /** The new login is refused while a session is live (errno 2, as the classic server). */
  REJECT,
  /** Every session stays; messages go to all of them. */
  MULTI;

  public static LoginPolicy parse(String text) {
    return valueOf(text.trim().toUpperCase(java.util.Locale.ROOT));
  }
}
