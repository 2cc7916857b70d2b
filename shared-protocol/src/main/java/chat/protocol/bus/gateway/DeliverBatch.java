package chat.protocol.bus.gateway;

import chat.protocol.bus.BusFields;
import chat.protocol.wire.JsonText;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Request on {@code chat.gateway.<nodeId>.deliver.batch}: chats for named sessions on that
 * node, in the order their senders sent them. A sending node's event loop has at most one batch
 * in flight to a node; what its chats hand over meanwhile goes as its next batch, so one
 * message, one reply and one timer serve many chats.
 *
 * <p>The body is a {@link Buffer} in the layout below ({@link #toBuffer()},
 * {@link #fromBuffer(Buffer)}): each chat travels as the JSON text its client gets, so neither
 * node builds or walks a JSON tree for it on the way. All numbers are big-endian.
 * <pre>
 *   byte    layout version (1)
 *   long    deadline
 *   int     item count, at least 1
 *   item:   int userId, short sessionId length, sessionId (UTF-8),
 *           int text length, text (UTF-8)
 * </pre>
 * The reply is a {@link Buffer} of one byte per item, in order: 1 taken, 0 not
 * ({@link Reply#toBuffer()}). A node that reads only the JSON body refuses this one with
 * INVALID_INPUT, and its sender then stores the chats, which reach their sessions as stored
 * messages, so nodes can be rolled one at a time. For the same reason a node still reads the
 * JSON body {@code {deadline, items:[{userId, sessionId, payload}]}} ({@link #fromJson}) and
 * answers it {@code {taken:[bool]}} ({@link Reply#toJson()}).
 *
 * @param deadline epoch ms after which the node writes none of them (their sender stores what
 *                 is not answered as taken)
 * @param items    the deliveries, at least one, in order
 */
public record DeliverBatch(long deadline, List<Item> items) {

  /** The body layout's version, its first byte. */
  static final byte LAYOUT = 1;

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
   * @param text the message the client gets, as its compact JSON text
   */
  public record Item(int userId, String sessionId, String text) {

    public Item {
      if (userId < 1) {
        throw new IllegalArgumentException("userId must be a user id, was " + userId);
      }
      Objects.requireNonNull(sessionId, "sessionId");
      Objects.requireNonNull(text, "text");
    }
  }

  /** True when it arrived after its deadline. */
  public boolean lateAt(long nowMs) {
    return nowMs > deadline;
  }

  /** The body. */
  public Buffer toBuffer() {
    List<byte[]> encoded = new ArrayList<>(items.size() * 2);
    int size = 1 + 8 + 4;
    for (Item item : items) {
      byte[] session = item.sessionId().getBytes(StandardCharsets.UTF_8);
      byte[] text = item.text().getBytes(StandardCharsets.UTF_8);
      if (session.length > Short.MAX_VALUE) {
        throw new IllegalArgumentException("a session id this long is no session id");
      }
      encoded.add(session);
      encoded.add(text);
      size += 4 + 2 + session.length + 4 + text.length;
    }
    Buffer body = Buffer.buffer(size).appendByte(LAYOUT).appendLong(deadline)
        .appendInt(items.size());
    for (int i = 0; i < items.size(); i++) {
      byte[] session = encoded.get(2 * i);
      byte[] text = encoded.get(2 * i + 1);
      body.appendInt(items.get(i).userId()).appendShort((short) session.length)
          .appendBytes(session).appendInt(text.length).appendBytes(text);
    }
    return body;
  }

  /**
   * The request a body in the layout above holds.
   *
   * @throws chat.protocol.bus.ServiceFailure with INVALID_INPUT when it does not fit
   */
  public static DeliverBatch fromBuffer(Buffer body) {
    if (body == null || body.length() < 13 || body.getByte(0) != LAYOUT) {
      throw BusFields.invalid("DeliverBatch: not a body of layout " + LAYOUT);
    }
    long deadline = body.getLong(1);
    int count = body.getInt(9);
    if (deadline < 0 || count < 1 || count > (body.length() - 13) / 10) {
      throw BusFields.invalid("DeliverBatch: deadline " + deadline + ", " + count + " items");
    }
    List<Item> items = new ArrayList<>(count);
    int at = 13;
    for (int i = 0; i < count; i++) {
      int userId = readInt(body, at, i);
      int sessionLength = readShort(body, at + 4, i);
      String sessionId = readText(body, at + 6, sessionLength, i);
      at += 6 + sessionLength;
      int textLength = readInt(body, at, i);
      String text = readText(body, at + 4, textLength, i);
      at += 4 + textLength;
      if (userId < 1) {
        throw BusFields.invalid("items[" + i + "].userId must be a user id, was " + userId);
      }
      items.add(new Item(userId, sessionId, text));
    }
    if (at != body.length()) {
      throw BusFields.invalid("DeliverBatch: " + (body.length() - at) + " bytes after the items");
    }
    return new DeliverBatch(deadline, items);
  }

  private static int readInt(Buffer body, int at, int item) {
    if (at + 4 > body.length()) {
      throw BusFields.invalid("items[" + item + "] is cut short");
    }
    return body.getInt(at);
  }

  private static int readShort(Buffer body, int at, int item) {
    if (at + 2 > body.length()) {
      throw BusFields.invalid("items[" + item + "] is cut short");
    }
    return body.getShort(at);
  }

  private static String readText(Buffer body, int at, int length, int item) {
    if (length < 0 || length > body.length() - at) {
      throw BusFields.invalid("items[" + item + "] is cut short");
    }
    return body.getString(at, at + length, "UTF-8");
  }

  /**
   * The request of a JSON body, as nodes sent it before the layout above, read under the rules
   * of {@link BusFields}.
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
          JsonText.toString(BusFields.object(item, "payload"))));
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

    /** The reply to a body in the layout above: one byte per item. */
    public Buffer toBuffer() {
      byte[] bytes = new byte[taken.size()];
      for (int i = 0; i < bytes.length; i++) {
        bytes[i] = Boolean.TRUE.equals(taken.get(i)) ? (byte) 1 : 0;
      }
      return Buffer.buffer(bytes);
    }

    /** The reply to a JSON body. */
    public JsonObject toJson() {
      return new JsonObject().put("taken", new JsonArray(new ArrayList<>(taken)));
    }

    /**
     * @throws chat.protocol.bus.ServiceFailure with INVALID_INPUT when it does not fit
     */
    public static Reply fromBuffer(Buffer body, int expected) {
      if (body == null || body.length() != expected) {
        throw BusFields.invalid("taken must hold " + expected + " answers, held "
            + (body == null ? 0 : body.length()));
      }
      List<Boolean> taken = new ArrayList<>(expected);
      for (int i = 0; i < expected; i++) {
        byte answer = body.getByte(i);
        if (answer != 0 && answer != 1) {
          throw BusFields.invalid("taken[" + i + "] is " + answer + ", not 0 or 1");
        }
        taken.add(answer == 1);
      }
      return new Reply(taken);
    }
  }
}
