package chat.protocol.bus.user;

import static chat.protocol.bus.BusFields.checkId;
import static chat.protocol.bus.BusFields.checkIds;
import static chat.protocol.bus.BusFields.checkToken;
import static chat.protocol.bus.BusFields.invalid;
import static chat.protocol.bus.BusFields.required;

import chat.protocol.bus.BusFields;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * Request on {@code chat.user.message.append}: messages to log and store, in order, in one
 * transaction; idempotent by msgno. It runs once per chat (the gateway logs every chat it
 * accepts), so it maps itself ({@link #toJson}, {@link #fromJson}) instead of going through
 * {@link chat.protocol.bus.BusJson}, with the same field names and rules.
 */
public record Append(List<Item> messages) {

  /** Messages in one append, at most. */
  public static final int MAX_MESSAGES = 1_000;
  /** User ids named in one append (all its messages), at most. */
  public static final int MAX_USERS = 1_000_000;
  /** msgno values are at most this long. */
  public static final int MAX_MSGNO_LENGTH = 64;
  /** A stored message's encoded JSON at most (UTF-16 units), checked by the service. */
  public static final int MAX_MESSAGE_LENGTH = 1 << 20;
  /** Log rows the user service writes in one multi-row insert at most. */
  public static final int LOG_ROWS_PER_INSERT = 160;

  /**
   * How many of {@code waiting} messages that only go to the log a writer puts in one append:
   * all of them up to 8, else the largest of four sizes per doubling (10, 12, 14, 16, 20, 24,
   * 28, 32, 40, ...) not above {@code waiting}, at most {@link #LOG_ROWS_PER_INSERT}. The user
   * service writes such an append as one insert of a shape its connections keep prepared
   * without repeating a row to fill the shape up; a repeated row costs the database about
   * twice a new one, a second statement about ten rows. The rest go in the next append.
   */
  public static int logRowsForOneInsert(int waiting) {
    if (waiting <= 8) {
      return Math.max(waiting, 0);
    }
    int n = Math.min(waiting, LOG_ROWS_PER_INSERT);
    int step = logInsertStep(n);
    return n / step * step;
  }

  /**
   * The spacing of the log inserts' shapes around {@code rows} rows: 1 up to 8, then four
   * sizes per doubling (10, 12, 14, 16, 20, 24, ...). The user service prepares its inserts in
   * these sizes; a writer takes its appends in them.
   */
  public static int logInsertStep(int rows) {
    return rows <= 8 ? 1 : Integer.highestOneBit(rows) >> 2;
  }

  public Append {
    required("messages", messages);
    if (messages.size() > MAX_MESSAGES) {
      throw invalid("at most " + MAX_MESSAGES + " messages per append");
    }
    long users = 0;
    for (Item item : messages) {
      required("messages", item);
      users += item.pending().size() + item.delivered().size() + item.to().size();
    }
    if (users > MAX_USERS) {
      throw invalid("at most " + MAX_USERS + " users per append");
    }
    messages = List.copyOf(messages);
  }

  public JsonObject toJson() {
    JsonArray items = new JsonArray(new ArrayList<>(messages.size()));
    messages.forEach(item -> items.add(item.toJson()));
    return new JsonObject().put("messages", items);
  }

  /** The request a body holds; INVALID_INPUT ({@link chat.protocol.bus.ServiceFailure}) if none. */
  public static Append fromJson(JsonObject body) {
    if (body == null) {
      throw invalid("Append: no body");
    }
    JsonArray items = BusFields.array(body, "messages");
    if (items.size() > MAX_MESSAGES) {
      throw invalid("at most " + MAX_MESSAGES + " messages per append");
    }
    List<Item> messages = new ArrayList<>(items.size());
    for (Object entry : items) {
      if (!(entry instanceof JsonObject item)) {
        throw invalid("messages must hold JSON objects");
      }
      messages.add(Item.fromJson(item));
    }
    return new Append(messages);
  }

  /**
   * One message: a chat (msgid 6 to a user, 10 to a group) with its msgno, to log, and to
   * store for its {@code pending} users; {@code delivered} users have it already.
   *
   * @param to        users who must exist for the message to be logged (the recipient of a
   *                  one-to-one chat logged when accepted); missing ones come back missing
   * @param refusable when no user takes it (full, missing) and nobody else has it, it
   *                  leaves the log again (the sender was not answered yet)
   * @param text      the message's compact JSON text ({@code JsonText.toString(message)}) when
   *                  the caller already made it, else null; only a record handed over within
   *                  the process carries it (never the bus), and the service encodes the
   *                  message itself when it is null
   */
  public record Item(JsonObject message, List<Integer> pending, List<Integer> delivered,
                     List<Integer> to, boolean refusable, String text) {

    public Item(JsonObject message, List<Integer> pending, List<Integer> delivered,
        List<Integer> to, boolean refusable) {
      this(message, pending, delivered, to, refusable, null);
    }

    public Item {
      required("message", message);
      checkToken("msgno", BusFields.string(message, "msgno"), MAX_MSGNO_LENGTH);
      conversationOf(message);
      pending = checkIds("pending", pending);
      delivered = checkIds("delivered", delivered);
      to = checkIds("to", to);
    }

    /** A chat to log as accepted; {@code to} must exist. */
    public static Item log(JsonObject message, List<Integer> to) {
      return log(message, null, to);
    }

    /** As {@link #log(JsonObject, List)}, with the message's text (or null). */
    public static Item log(JsonObject message, String text, List<Integer> to) {
      return new Item(message, List.of(), List.of(), to, false, text);
    }

    /** A chat to store for users who will get it later. */
    public static Item store(JsonObject message, List<Integer> pending, boolean refusable) {
      return new Item(message, pending, List.of(), List.of(), refusable);
    }

    public String msgno() {
      return message.getString("msgno");
    }

    /** The sender ({@code id} of the chat). */
    public int sender() {
      return message.getInteger("id");
    }

    /** The conversation: {@code u:<low id>:<high id>} or {@code g:<groupid>}. */
    public String conversation() {
      return conversationOf(message);
    }

    /** Lists left out when empty, {@code refusable} when false (as callers always sent it). */
    public JsonObject toJson() {
      JsonObject json = new JsonObject().put("message", message);
      putIds(json, "pending", pending);
      putIds(json, "delivered", delivered);
      putIds(json, "to", to);
      if (refusable) {
        json.put("refusable", true);
      }
      return json;
    }

    static Item fromJson(JsonObject json) {
      return new Item(BusFields.object(json, "message"), BusFields.ids(json, "pending"),
          BusFields.ids(json, "delivered"), BusFields.ids(json, "to"),
          BusFields.flag(json, "refusable"));
    }
  }

  /** The conversation of a chat; INVALID_INPUT unless it is one (msgid 6 or 10 with its ids). */
  static String conversationOf(JsonObject message) {
    Object msgid = message.getValue("msgid");
    if (Integer.valueOf(6).equals(msgid)) {
      int from = BusFields.id(message, "id");
      int to = BusFields.id(message, "toid");
      return oneToOne(from, to);
    }
    if (Integer.valueOf(10).equals(msgid)) {
      BusFields.id(message, "id");
      return "g:" + BusFields.id(message, "groupid");
    }
    throw invalid("only chats (msgid 6 or 10) are stored");
  }

  /** The conversation of two users, whichever side asks. */
  public static String oneToOne(int a, int b) {
    checkId("id", a);
    checkId("id", b);
    return "u:" + Math.min(a, b) + ":" + Math.max(a, b);
  }

  private static void putIds(JsonObject json, String key, List<Integer> ids) {
    if (!ids.isEmpty()) {
      json.put(key, new JsonArray(new ArrayList<>(ids)));
    }
  }

  /** Reply: one result per message, in the order of the request. */
  public record Reply(List<Result> results) {

    public Reply {
      results = results == null ? List.of() : List.copyOf(results);
    }

    public JsonObject toJson() {
      JsonArray json = new JsonArray(new ArrayList<>(results.size()));
      results.forEach(r -> json.add(new JsonObject()
          .put("stored", new JsonArray(new ArrayList<>(r.stored())))
          .put("full", new JsonArray(new ArrayList<>(r.full())))
          .put("missing", new JsonArray(new ArrayList<>(r.missing())))));
      return new JsonObject().put("results", json);
    }

    /** The reply a body holds; INVALID_INPUT when it is not one. */
    public static Reply fromJson(JsonObject body) {
      JsonArray json = body.getValue("results") == null
          ? new JsonArray() : BusFields.array(body, "results");
      List<Result> results = new ArrayList<>(json.size());
      for (Object entry : json) {
        if (!(entry instanceof JsonObject r)) {
          throw invalid("results must hold JSON objects");
        }
        results.add(new Result(BusFields.ids(r, "stored"), BusFields.ids(r, "full"),
            BusFields.ids(r, "missing")));
      }
      return new Reply(results);
    }
  }

  /** What became of one message for its users: stored, refused as full, or not existing. */
  public record Result(List<Integer> stored, List<Integer> full, List<Integer> missing) {

    public Result {
      stored = checkIds("stored", stored);
      full = checkIds("full", full);
      missing = checkIds("missing", missing);
    }
  }
}
