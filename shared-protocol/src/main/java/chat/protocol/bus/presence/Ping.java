package chat.protocol.bus.presence;

/**
 * Request on {@code chat.presence.service.ping}: answered when the presence map is reachable
 * (a readiness probe). No fields either way.
 */
public record Ping() {

  /** Reply: presence is up. */
  public record Reply() {
  }
}
