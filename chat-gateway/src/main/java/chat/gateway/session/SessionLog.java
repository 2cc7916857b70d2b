package chat.gateway.session;

import org.slf4j.Logger;
import org.slf4j.MDC;

/**
 * The one line each step of a user's life gets (login, register, failed login, logout,
 * disconnect with its reason, ...), with the step, the connection and the user also in the
 * MDC ({@code event}, {@code conn}, {@code user}), so that the JSON log format
 * ({@code CHAT_LOG_FORMAT=json}) carries them as fields. The MDC is set around this one call
 * only: an event loop serves many sessions.
 */
public final class SessionLog {

  private SessionLog() {
  }

  /**
   * Logs at INFO, with {@code user} left out of the MDC when it is not known (below 1).
   */
  public static void info(Logger log, String event, String connection, long user,
                          String format, Object... arguments) {
    if (log.isInfoEnabled()) {
      log(log, false, event, connection, user, format, arguments);
    }
  }

  /**
   * Logs at DEBUG, as {@link #info} does: the steps every connection makes that an INFO line
   * of the same connection tells already (a connection opened is in its login line).
   */
  public static void debug(Logger log, String event, String connection, long user,
                           String format, Object... arguments) {
    if (log.isDebugEnabled()) {
      log(log, true, event, connection, user, format, arguments);
    }
  }

  private static void log(Logger log, boolean debug, String event, String connection, long user,
                          String format, Object... arguments) {
    MDC.put("event", event);
    MDC.put("conn", connection);
    if (user > 0) {
      MDC.put("user", Long.toString(user));
    }
    try {
      if (debug) {
        log.debug(format, arguments);
      } else {
        log.info(format, arguments);
      }
    } finally {
      MDC.remove("event");
      MDC.remove("conn");
      MDC.remove("user");
    }
  }
}
