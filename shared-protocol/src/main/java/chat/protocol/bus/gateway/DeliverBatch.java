package chat.protocol.bus.gateway;

import chat.protocol.bus.BusFields;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Request on {@code chat.gateway.<nodeId>.deliver.batch}: chats for named sessions on that
 * node, in the order their senders sent them. A sending node's event loop has at most one batch
 * in flight to a node; what its chats hand over meanwhile goes as its next batch, so one
 * message, one reply and one timer serve many chats.
 *
 * <p>The hot path: both sides use {@link #toJson()} and {@link #fromJson(JsonObject)}, written
 * by hand (as {@link Deliver}'s).
 *
 * @param deadline epoch ms after which the node writes none of them (their sender stores what
 *                 is not answered as taken)
 * @param items    the deliveries, at least one, in order
 */
public record DeliverBatch(long deadline, List<Item> items) {

  public DeliverBatch {
    if (deadline < 0) {
      throw new IllegalArgumentException("deadline must not be negative");
    }
    if (items == null || items.isEmpty()) {
      throw new IllegalArgumentException("a batch holds at least one item");
    }
  }

  /**
   * One chat for one session.
   *
   * @param payload the message the client gets, as the client protocol has it
   */
  public record Item(int userId, String sessionId, JsonObject payload) {

    public Item {
      if (userId < 1) {
        throw new IllegalArgumentException("userId must be a user id, was " + userId);
      }
      Objects.requireNonNull(sessionId, "sessionId");
      Objects.requireNonNull(payload, "payload");
    }
  }

  /** True when it arrived after its deadline. */
  public boolean lateAt(long nowMs) {
    return nowMs > deadline;
  }

  /** The body; the payloads are put in as they are, not copied. */
  public JsonObject toJson() {
    JsonArray list = new JsonArray(new ArrayList<>(items.size()));
    for (Item item : items) {
      list.add(new JsonObject().put("userId", item.userId()).put("sessionId", item.sessionId())
          .put("payload", item.payload()));
    }
    return new JsonObject().put("deadline", deadline).put("items", list);
  }

  /**
   * The request a body holds, read under the rules of {@link BusFields}.
   *
   * @throws chat.protocol.bus.ServiceFailure with INVALID_INPUT when it does not fit
   */
  public static DeliverBatch fromJson(JsonObject body) {
    if (body == null) {
      throw BusFields.invalid("DeliverBatch: no body");
    }
    long deadline = BusFields.nonNegativeLong(body, "deadline");
    JsonArray list = BusFields.array(body, "items");
    if (list.isEmpty()) {
      throw BusFields.invalid("items must not be empty");
    }
    List<Item> items = new ArrayList<>(list.size());
    for (int i = 0; i < list.size(); i++) {
      if (!(list.getValue(i) instanceof JsonObject item)) {
        throw BusFields.invalid("items[" + i + "] must be a JSON object");
      }
      items.add(new Item(BusFields.id(item, "userId"), BusFields.string(item, "sessionId"),
          BusFields.object(item, "payload")));
    }
    return new DeliverBatch(deadline, items);
  }

  /**
   * Reply: per item, in the request's order, whether its session took it (it then answers for
   * it: written, or stored by it). Not taken: the session is not there, or the item would have
   * been written after the deadline; its sender stores it.
   */
  public record Reply(List<Boolean> taken) {

    public Reply {
      Objects.requireNonNull(taken, "taken");
    }

    public JsonObject toJson() {
      return new JsonObject().put("taken", new JsonArray(new ArrayList<>(taken)));
    }

    /**
     * @throws chat.protocol.bus.ServiceFailure with INVALID_INPUT when it does not fit
     */
    public static Reply fromJson(JsonObject body, int expected) {
      JsonArray list = BusFields.array(body, "taken");
      if (list.size() != expected) {
        throw BusFields.invalid("taken must hold " + expected + " answers, held " + list.size());
      }
      List<Boolean> taken = new ArrayList<>(expected);
      for (int i = 0; i < expected; i++) {
        taken.add(Boolean.TRUE.equals(list.getValue(i)));
      }
      return new Reply(taken);
    }
  }
}
