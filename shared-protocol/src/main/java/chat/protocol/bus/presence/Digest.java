package chat.protocol.bus.presence;

import com.fasterxml.jackson.annotation.JsonFormat;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.List;
import java.util.Objects;

/**
 * Published on {@code chat.presence.node.digest} by each gateway every CHAT_REPAIR_S / 3: the
 * user sessions the node holds. Sessions numbered up to {@code upTo} (the gateway's connect
 * counter, see {@link Connect#seq}) that the list lacks have ended.
 */
public record Digest(String nodeId, long upTo, List<Entry> sessions) {

  public Digest {
    Objects.requireNonNull(nodeId, "nodeId");
    sessions = sessions == null ? List.of() : List.copyOf(sessions);
  }

  /**
   * One session the node holds, on the wire as {@code [userId, sessionId, transport,
   * loggedIn]} (compact: a digest lists every session of the node).
   *
   * @param loggedIn false while its LOGIN is still under way
   */
  @JsonFormat(shape = JsonFormat.Shape.ARRAY)
  @JsonPropertyOrder({"userId", "sessionId", "transport", "loggedIn"})
  public record Entry(int userId, String sessionId, String transport, boolean loggedIn) {

    public Entry {
      Objects.requireNonNull(sessionId, "sessionId");
    }
  }
}
