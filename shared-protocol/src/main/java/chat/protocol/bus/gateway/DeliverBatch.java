package chat.protocol.bus.gateway;

import chat.protocol.bus.BusFields;
import chat.protocol.wire.JsonText;
import chat.protocol.wire.MsgId;
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
 * {@link #fromBuffer(Buffer)}): each chat travels as the JSON text its client gets, with its
 * {@code msgid} and {@code msgno} beside it, so neither node builds or walks a JSON tree for it
 * on the way. All numbers are big-endian.
 * <pre>
 *   byte    layout version (1)
 *   long    deadline
 *   int     item count, at least 1
 *   item:   int userId, short sessionId length, sessionId (UTF-8),
 *           int msgid, short msgno length (-1: none), msgno (UTF-8),
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
  /** The bytes of an item with empty texts. */
  private static final int ITEM_MIN = 4 + 2 + 4 + 2 + 4;

  public DeliverBatch {
    if (deadline < 0) {
      throw new IllegalArgumentException("deadline must not be negative");
    }
    if (items == null || items.isEmpty()) {
      throw new IllegalArgumentException("a batch holds at least one item");
    }
  }

  /**
   * One message (a chat, or a notice) for one session.
   *
   * @param msgid the message's {@code msgid}, as its text has it (0 when it has none)
   * @param msgno a chat's {@code msgno}, as its text has it; null for a message that is no
   *              chat (the receiving node then reads the text)
   * @param text  the message the client gets, as its compact JSON text
   */
  public record Item(int userId, String sessionId, int msgid, String msgno, String text) {

    public Item {
      if (userId < 1) {
        throw new IllegalArgumentException("userId must be a user id, was " + userId);
      }
      Objects.requireNonNull(sessionId, "sessionId");
      Objects.requireNonNull(text, "text");
    }

    /** The item of {@code message}, whose text is {@code text}. */
    public static Item of(int userId, String sessionId, JsonObject message, String text) {
      Object msgid = message.getValue("msgid");
      return new Item(userId, sessionId, msgid instanceof Integer id ? id : 0,
          MsgId.isChat(msgid) && message.getValue("msgno") instanceof String msgno ? msgno : null,
          text);
    }
  }

  /** True when it arrived after its deadline. */
  public boolean lateAt(long nowMs) {
    return nowMs > deadline;
  }

  /** The body. */
  public Buffer toBuffer() {
    List<byte[]> encoded = new ArrayList<>(items.size() * 3);
    int size = 1 + 8 + 4;
    for (Item item : items) {
      byte[] session = shortText(item.sessionId());
      byte[] msgno = item.msgno() == null ? null : shortText(item.msgno());
      byte[] text = item.text().getBytes(StandardCharsets.UTF_8);
      encoded.add(session);
      encoded.add(msgno);
      encoded.add(text);
      size += ITEM_MIN + session.length + (msgno == null ? 0 : msgno.length) + text.length;
    }
    Buffer body = Buffer.buffer(size).appendByte(LAYOUT).appendLong(deadline)
        .appendInt(items.size());
    for (int i = 0; i < items.size(); i++) {
      byte[] session = encoded.get(3 * i);
      byte[] msgno = encoded.get(3 * i + 1);
      byte[] text = encoded.get(3 * i + 2);
      body.appendInt(items.get(i).userId()).appendShort((short) session.length)
          .appendBytes(session).appendInt(items.get(i).msgid());
      if (msgno == null) {
        body.appendShort((short) -1);
      } else {
        body.appendShort((short) msgno.length).appendBytes(msgno);
      }
      body.appendInt(text.length).appendBytes(text);
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
    if (deadline < 0 || count < 1 || count > (body.length() - 13) / ITEM_MIN) {
      throw BusFields.invalid("DeliverBatch: deadline " + deadline + ", " + count + " items");
    }
    List<Item> items = new ArrayList<>(count);
    int at = 13;
    for (int i = 0; i < count; i++) {
      int userId = readInt(body, at, i);
      int sessionLength = readShort(body, at + 4, i);
      String sessionId = readText(body, at + 6, sessionLength, i);
      at += 6 + sessionLength;
      int msgid = readInt(body, at, i);
      int msgnoLength = readShort(body, at + 4, i);
      String msgno = msgnoLength == -1 ? null : readText(body, at + 6, msgnoLength, i);
      at += 6 + Math.max(0, msgnoLength);
      int textLength = readInt(body, at, i);
      String text = readText(body, at + 4, textLength, i);
      at += 4 + textLength;
      if (userId < 1) {
        throw BusFields.invalid("items[" + i + "].userId must be a user id, was " + userId);
      }
      items.add(new Item(userId, sessionId, msgid, msgno, text));
    }
    if (at != body.length()) {
      throw BusFields.invalid("DeliverBatch: " + (body.length() - at) + " bytes after the items");
    }
    return new DeliverBatch(deadline, items);
  }

  private static byte[] shortText(String text) {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    if (bytes.length > Short.MAX_VALUE) {
      throw new IllegalArgumentException("too long for a session id or msgno: " + bytes.length);
    }
    return bytes;
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
      JsonObject payload = BusFields.object(item, "payload");
      items.add(Item.of(BusFields.id(item, "userId"), BusFields.string(item, "sessionId"),
          payload, JsonText.toString(payload)));
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
