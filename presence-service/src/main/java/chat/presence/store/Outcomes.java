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
   * @param aborted    the end of this session was reported before its connect arrived: the
   *                   gateway gave up on the login, and nothing was added
   * @param needsSeed  the entry's version counter is unknown: read the row's version and
   *                   try again with it as the floor
   */
  public record Connected(boolean rejected, boolean wentOnline, long version,
                          List<SessionRef> replaced, boolean aborted, boolean needsSeed)
      implements Serializable {

    static Connected seedFirst() {
      return new Connected(false, false, UserSessions.UNSEEDED, List.of(), false, true);
    }
  }

  /**
   * The result of removing sessions.
   *
   * @param removed     how many sessions were removed (0: they were already gone)
   * @param wentOffline the last session of the user was removed
   * @param version     the version of the user's state after the change
   * @param node        the node that held the last session removed; null when none was
   */
  public record Removed(int removed, boolean wentOffline, long version, String node)
      implements Serializable {
  }

  /**
   * The result of putting back sessions a gateway still holds.
   *
   * @param added      how many were missing and put back
   * @param wentOnline the user had no session before
   * @param version    the version after the change
   * @param toClose    sessions the cluster had ended (kicked, swept) that the gateway still
   *                   holds: they are closed, not restored
   * @param needsSeed  as for {@link Connected#needsSeed()}
   */
  public record Restored(int added, boolean wentOnline, long version, List<String> toClose,
                         boolean needsSeed) implements Serializable {
  }

  /**
   * What the database row of a user should be changed to, or {@code write == false} when it
   * is right already.
   */
  public record Aligned(boolean write, boolean online, long version) implements Serializable {

    static final Aligned NOTHING = new Aligned(false, false, 0);
  }
}
