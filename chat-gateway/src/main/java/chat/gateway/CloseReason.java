package chat.gateway;

/** Why a client connection ended; logged with every disconnect. */
public enum CloseReason {
  /** The client closed the connection (FIN or RST). */
  CLIENT_CLOSED,
  /** A write to the socket failed. */
  WRITE_FAILED,
  /** A client that pings went silent for longer than its heartbeat timeout. */
  HEARTBEAT_TIMEOUT,
  /** A visitor did not log in within the auth timeout. */
  AUTH_TIMEOUT,
  /** The same account logged in elsewhere (policy kick). */
  KICKED,
  /** The client sent an object larger than the frame limit. */
  TOO_LARGE,
  /** The client did not read its messages fast enough. */
  SLOW_CONSUMER,
  /** This node is stopping. */
  SERVER_CLOSING
}
