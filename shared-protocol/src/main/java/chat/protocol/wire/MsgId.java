package chat.protocol.wire;

/** Message ids of wire protocol v1 (classic ids 1–10, extensions from 100). */
public final class MsgId {

  private MsgId() {
  }

  public static final int LOGIN = 1;
  public static final int LOGIN_ACK = 2;
  public static final int LOGINOUT = 3;
  public static final int REG = 4;
  public static final int REG_ACK = 5;
  public static final int ONE_CHAT = 6;
  public static final int ADD_FRIEND = 7;
  public static final int CREATE_GROUP = 8;
  public static final int ADD_GROUP = 9;
  public static final int GROUP_CHAT = 10;

  public static final int PING = 100;
  public static final int PONG = 101;
  public static final int KICKED = 102;
  public static final int PRESENCE = 103;
  public static final int ERROR = 104;
  public static final int ACK = 105;
  public static final int SERVER_CLOSING = 106;
  public static final int PRESENCE_QUERY = 107;
  public static final int BROADCAST = 108;

  // ---- protocol v1.1 ----
  /** {@code {"msgid":109,"upto":"<msgno>"}}: the client has the stored messages up to that one. */
  public static final int OFFLINE_ACK = 109;
  /** {@code {"msgid":110,"with":14 | "groupid":3,"before":"<msgno>","limit":50}}. */
  public static final int HISTORY = 110;
  /** Server push: a user made you a friend ({@code {"msgid":111,"id","name","state","v"}}). */
  public static final int FRIEND = 111;

  /** True for the msgid of a chat, ONE_CHAT or GROUP_CHAT (as a message's field holds it). */
  public static boolean isChat(Object msgid) {
    return Integer.valueOf(ONE_CHAT).equals(msgid) || Integer.valueOf(GROUP_CHAT).equals(msgid);
  }
}
