package chat.presence.store;

import java.io.Serializable;
import java.util.List;

/** What one atomic change of a user's entry did. */
public final class Outcomes {

  private Outcomes() {
  }

  /**
   * The result of a login.
   *
   * @param rejected   the login was refused (policy reject) and nothing changed
   * @param wentOnline the user had no session before
   * @param version    the version of the user's state after the change
   * @param replaced   sessions removed by this login (policy kick)
   */
  public record Connected(boolean rejected, boolean wentOnline, long version,
                          List<SessionRef> replaced) implements Serializable {
  }

  /**
   * The result of removing sessions.
   *
   * @param removed     how many sessions were removed (0: they were already gone)
   * @param wentOffline the last session of the user was removed
   * @param version     the version of the user's state after the change
   */
  public record Removed(int removed, boolean wentOffline, long version) implements Serializable {
  }
}
