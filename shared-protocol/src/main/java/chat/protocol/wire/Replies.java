package chat.protocol.wire;

import io.vertx.core.json.JsonObject;

/** Builders of the server's own messages (ERROR, ACK, PONG, KICKED, ...). */
public final class Replies {

  private static final String PONG_TEXT = "{\"msgid\":" + MsgId.PONG + "}";

  private Replies() {
  }

  /** ERROR 104; {@code ref} and {@code seq} are left out when null. */
  public static JsonObject error(int errno, String errmsg, Integer ref, Object seq) {
    JsonObject error = new JsonObject().put("msgid", MsgId.ERROR).put("errno", errno)
        .put("errmsg", errmsg);
    if (ref != null) {
      error.put("ref", ref);
    }
    return withSeq(error, seq);
  }

  /** ACK 105 with errno 0. */
  public static JsonObject ack(int ref, Object seq) {
    return withSeq(new JsonObject().put("msgid", MsgId.ACK).put("ref", ref).put("errno", 0), seq);
  }

  /**
   * The text of {@code ack(ref, seq)} for a seq that is an Integer or a Long, written without
   * building the object (the same bytes as its encoding); null for any other seq, whose text
   * is then the object's encoding. A chat is answered this way once per message.
   */
  public static String ackText(int ref, Object seq) {
    if (!(seq instanceof Integer) && !(seq instanceof Long)) {
      return null;
    }
    return "{\"msgid\":" + MsgId.ACK + ",\"ref\":" + ref + ",\"errno\":0,\"seq\":" + seq + "}";
  }

  public static JsonObject pong(Object seq) {
    return withSeq(new JsonObject().put("msgid", MsgId.PONG), seq);
  }

  /**
   * The text of {@code pong(seq)} for a seq given as its JSON text ({@code ""} for none),
   * without building the object: a node answers one PING per session every heartbeat
   * interval.
   */
  public static String pongText(String seqJson) {
    return seqJson == null || seqJson.isEmpty() ? PONG_TEXT
        : "{\"msgid\":" + MsgId.PONG + ",\"seq\":" + seqJson + "}";
  }

  public static JsonObject kicked() {
    return new JsonObject().put("msgid", MsgId.KICKED).put("reason", "login_elsewhere")
        .put("errmsg", "this account has logged in elsewhere");
  }

  public static JsonObject serverClosing(long reconnectAfterMs) {
    return new JsonObject().put("msgid", MsgId.SERVER_CLOSING)
        .put("reconnect_after_ms", reconnectAfterMs);
  }

  public static JsonObject broadcast(String msg) {
    return new JsonObject().put("msgid", MsgId.BROADCAST).put("msg", msg);
  }

  public static JsonObject presence(int userId, boolean online) {
    return new JsonObject().put("msgid", MsgId.PRESENCE).put("id", userId)
        .put("state", online ? "online" : "offline");
  }

  /**
   * PRESENCE with the transition's version {@code v}: it grows with every online/offline
   * transition of the user, so a client keeps the state with the highest {@code v} it saw.
   */
  public static JsonObject presence(int userId, boolean online, long version) {
    return presence(userId, online).put("v", version);
  }

  /**
   * FRIEND 111, pushed to both sides of a new friendship: who the friend is and whether
   * they are online; {@code v} (the version of that state, as in PRESENCE) only when known.
   */
  public static JsonObject friend(int userId, String name, String state, Long version) {
    JsonObject friend = new JsonObject().put("msgid", MsgId.FRIEND).put("id", userId)
        .put("name", name).put("state", state);
    if (version != null) {
      friend.put("v", version);
    }
    return friend;
  }

  /** Adds {@code seq} when the request carried one. */
  public static JsonObject withSeq(JsonObject message, Object seq) {
    if (seq != null) {
      message.put("seq", seq);
    }
    return message;
  }
}
