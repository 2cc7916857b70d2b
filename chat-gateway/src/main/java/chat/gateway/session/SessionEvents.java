package chat.gateway.session;

/** What a session reports to the rest of the system. */
public interface SessionEvents {

  /**
   * A user session ended (logout, or the connection closed while logged in). Called exactly
   * once per successful presence registration, after it completed.
   *
   * @param why {@code logout} or the lower-case name of a {@link chat.gateway.CloseReason}
   */
  void userSessionEnded(int userId, String sessionId, String why);
}
