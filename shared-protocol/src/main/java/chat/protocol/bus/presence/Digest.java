package chat.protocol.bus.presence;

import chat.protocol.bus.BusJson;
import com.fasterxml.jackson.annotation.JsonFormat;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Arrays;
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
   * The body on the bus, written directly: the same JSON as {@code BusJson.toJson(this)},
   * without going through a generic mapping of every entry (a node publishes its digest
   * every few seconds, one entry per session).
   */
  public JsonObject toJson() {
    List<Object> list = new ArrayList<>(sessions.size());
    for (Entry entry : sessions) {
      list.add(new JsonArray(Arrays.asList(entry.userId(), entry.sessionId(), entry.transport(),
          entry.loggedIn())));
    }
    return new JsonObject().put("nodeId", nodeId).put("upTo", upTo)
        .put("sessions", new JsonArray(list));
  }

  /**
   * The digest a body holds, as {@code BusJson.fromJson(body, Digest.class)} reads it. A body
   * whose every field is of the exact type written by {@link #toJson} is read directly; any
   * other goes through {@link BusJson#fromJson}, which accepts or refuses it as before.
   *
   * @throws chat.protocol.bus.ServiceFailure when the body does not fit the record
   */
  public static Digest fromJson(JsonObject body) {
    Digest direct = body == null ? null : readDirectly(body);
    return direct != null ? direct : BusJson.fromJson(body, Digest.class);
  }

  /** The digest, or null when any field is not of the exact type expected. */
  private static Digest readDirectly(JsonObject body) {
    Object nodeId = body.getValue("nodeId");
    Object upTo = body.getValue("upTo");
    Object sessions = body.getValue("sessions");
    if (!(nodeId instanceof String node)
        || !(upTo == null || upTo instanceof Integer || upTo instanceof Long)
        || !(sessions == null || sessions instanceof JsonArray)) {
      return null;
    }
    List<Entry> entries = new ArrayList<>(sessions == null ? 0 : ((JsonArray) sessions).size());
    if (sessions != null) {
      for (Object item : (JsonArray) sessions) {
        if (!(item instanceof JsonArray entry) || entry.size() < 3 || entry.size() > 4
            || !(entry.getValue(0) instanceof Integer userId)
            || !(entry.getValue(1) instanceof String sessionId)
            || !(entry.getValue(2) instanceof String transport)
            || (entry.size() == 4 && !(entry.getValue(3) instanceof Boolean))) {
          return null;
        }
        entries.add(new Entry(userId, sessionId, transport,
            entry.size() == 4 && (Boolean) entry.getValue(3)));
      }
    }
    return new Digest(node, upTo == null ? 0 : ((Number) upTo).longValue(), entries);
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
