package chat.protocol.bus.gateway;

import chat.protocol.bus.BusFields;
import chat.protocol.bus.BusJson;
import com.fasterxml.jackson.annotation.JsonInclude;
import io.vertx.core.json.JsonObject;
import java.util.Objects;

/**
 * Request on {@code chat.gateway.<nodeId>.deliver}: a message for a user's sessions on that
 * node.
 *
 * <p>This is the hot path (one per chat, and per recipient of a group chat), so both sides use
 * {@link #toJson()} and {@link #fromJson(JsonObject)}, written by hand: the same JSON and the
 * same refusals as {@link BusJson} with this record, at the cost of reading a
 * {@code JsonObject} by hand (BusJson's mapping cost several µs more per message).
 *
 * @param payload   the message the client gets, as the client protocol has it
 * @param sessionId only this session takes it (a chat), and then answers for it; absent:
 *                  every session of the user there (a notice)
 * @param deadline  epoch ms after which the node refuses it (its sender stores it instead);
 *                  absent: no deadline
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Deliver(int userId, JsonObject payload, String sessionId, Long deadline) {

  public Deliver {
    if (userId < 1) {
      throw new IllegalArgumentException("userId must be a user id, was " + userId);
    }
    Objects.requireNonNull(payload, "payload");
    if (deadline != null && deadline < 0) {
      throw new IllegalArgumentException("deadline must not be negative");
    }
  }

  /** To every session of the user on the node, with no deadline. */
  public static Deliver toUser(int userId, JsonObject payload) {
    return new Deliver(userId, payload, null, null);
  }

  /** True when it arrived after its deadline. */
  public boolean lateAt(long nowMs) {
    return deadline != null && nowMs > deadline;
  }

  /** The body (absent optional fields left out); the payload is put in as it is, not copied. */
  public JsonObject toJson() {
    JsonObject json = new JsonObject().put("userId", userId).put("payload", payload);
    if (sessionId != null) {
      json.put("sessionId", sessionId);
    }
    if (deadline != null) {
      json.put("deadline", deadline);
    }
    return json;
  }

  /**
   * The request a body holds, read under the rules of {@link BusFields}.
   *
   * @throws chat.protocol.bus.ServiceFailure with INVALID_INPUT when it does not fit
   */
  public static Deliver fromJson(JsonObject body) {
    if (body == null) {
      throw BusFields.invalid("Deliver: no body");
    }
    Long deadline = body.getValue("deadline") == null ? null
        : BusFields.nonNegativeLong(body, "deadline");
    return new Deliver(BusFields.id(body, "userId"), BusFields.object(body, "payload"),
        BusFields.optionalString(body, "sessionId"), deadline);
  }

  /** Reply: how many sessions took it (at least 1; none is the failure NO_SESSION). */
  public record Reply(int delivered) {

    /** The body, written by hand as the request's. */
    public JsonObject toJson() {
      return new JsonObject().put("delivered", delivered);
    }
  }
}
