package chat.protocol.bus;

/**
 * Every event-bus address of the system, in the form {@code chat.<owner>.<noun>.<verb>}.
 * Request and reply bodies are JSON objects; their fields are listed next to each address
 * and in shared-protocol/README.md. Receivers ignore fields they do not know.
 */
public final class Addresses {

  private Addresses() {
  }

  // ---- user-service (accounts, friends, groups, offline messages; MySQL) ----

  /** {name, password} → {id}; fails NAME_TAKEN, INVALID_INPUT. */
  public static final String USER_REGISTER = "chat.user.account.register";
  /** {id | name, password | token} → {id, name, token}; fails BAD_CREDENTIALS. */
  public static final String USER_LOGIN = "chat.user.account.login";
  /** {userId} → {} ; revokes every token of the user issued before now. */
  public static final String USER_LOGOUT = "chat.user.account.logout";
  /** {userId} → {friends:[{id,name}], groups:[{id,groupname,groupdesc,users:[{id,name,role}]}]} */
  public static final String USER_PROFILE = "chat.user.profile.get";
  /**
   * {messages:[{message, pending:[userIds], delivered:[userIds], to?:[userIds], refusable?}]}
   * → {results:[{stored:[userIds], full:[userIds], missing:[userIds]}]} ; appends to the
   * message log (idempotent by msgno; not logged when a {@code to} user is missing) and to each
   * pending user's mailbox (never a second copy); a {@code refusable} message no user took
   * leaves the log again.
   */
  public static final String USER_MESSAGE_APPEND = "chat.user.message.append";
  /** {userId, limit} → {messages:[{msgno, message}], more} ; the oldest pending, in order. */
  public static final String USER_OFFLINE_PAGE = "chat.user.offline.page";
  /**
   * {userId, limit} → {profile:{friends, groups}, offline:{messages, more}} ; what a LOGIN ack
   * shows: the replies of USER_PROFILE and USER_OFFLINE_PAGE, read in one query.
   */
  public static final String USER_LOGIN_DATA = "chat.user.login.data";
  /** {userId, msgnos:[...]} → {acked} ; exactly those pending messages are no longer pending. */
  public static final String USER_OFFLINE_ACK = "chat.user.offline.ack";
  /**
   * {userId, with | groupid, before?, limit} → {messages:[...], more} ; newest first page,
   * oldest first within it; fails NOT_A_MEMBER, NO_SUCH_GROUP, NO_SUCH_USER, NO_SUCH_MESSAGE.
   */
  public static final String USER_HISTORY = "chat.user.history.get";
  /**
   * {userId, friendId} → {user:{id,name}, friend:{id,name}} ; mutual, idempotent; fails
   * NO_SUCH_USER, INVALID_INPUT (self).
   */
  public static final String USER_FRIEND_ADD = "chat.user.friend.add";
  /** {userId} → {ids:[...]} */
  public static final String USER_FRIEND_LIST = "chat.user.friend.list";
  /** {userIds:[...]} (at most 500) → {lists:[{userId, ids:[...]}]}: many users' friends at once. */
  public static final String USER_FRIEND_LISTS = "chat.user.friend.lists";
  /** {userId, groupname, groupdesc} → {groupid}; fails NAME_TAKEN, INVALID_INPUT. */
  public static final String USER_GROUP_CREATE = "chat.user.group.create";
  /** {userId, groupid} → {} ; idempotent; fails NO_SUCH_GROUP. */
  public static final String USER_GROUP_JOIN = "chat.user.group.join";
  /** {userId, groupid} → {members:[ids]} ; fails NO_SUCH_GROUP, NOT_A_MEMBER. */
  public static final String USER_GROUP_MEMBERS = "chat.user.group.members";
  /** {} → {} ; answers when the user service and its database are up. */
  public static final String USER_PING = "chat.user.service.ping";

  // ---- presence-service (the distributed online map and the user.state mirror) ----

  /**
   * {userId, sessionId, nodeId, transport, policy, seq} → {replaced:[{sessionId,nodeId}], v}
   * once the session is in the map (and, for policy kick, the replaced sessions are closed or
   * their node has left); fails ALREADY_ONLINE (policy reject), OVERLOADED (an old session was
   * not confirmed closed within the kick timeout: nothing was added; try again). {@code seq}: see PRESENCE_NODE_DIGEST.
   */
  public static final String PRESENCE_CONNECT = "chat.presence.session.connect";
  /** {userId, sessionId, nodeId, reason} → {wentOffline} ; removes exactly that session. */
  public static final String PRESENCE_DISCONNECT = "chat.presence.session.disconnect";
  /** {nodeId} → {users} ; removes every session of a node that is stopping. */
  public static final String PRESENCE_NODE_DRAIN = "chat.presence.node.drain";
  /** {ids:[...]} → {sessions:{"13":[{sessionId,nodeId}]}} ; only online users appear. */
  public static final String PRESENCE_LOCATE = "chat.presence.locate";
  /** {ids:[...]} → {states:{"13":"online","14":"offline"}, versions:{"13":57,"14":0}} */
  public static final String PRESENCE_QUERY = "chat.presence.query";
  /**
   * Published by each gateway every CHAT_REPAIR_S / 3: {nodeId, upTo, sessions:[[userId,
   * sessionId, transport, loggedIn]]} ; every user session the node holds (logged in, or
   * logging in), and upTo, the node's connect counter when the list was taken (each connect
   * carries its number as {@code seq}). Presence removes the node's sessions numbered up to
   * upTo that the list lacks, puts back logged-in ones the map lacks, and kicks listed
   * sessions the cluster had ended.
   */
  public static final String PRESENCE_NODE_DIGEST = "chat.presence.node.digest";
  /** {} → {} ; answers when the presence map is reachable. */
  public static final String PRESENCE_PING = "chat.presence.service.ping";

  // ---- chat-gateway (the nodes that hold client sockets) ----

  /** Published: {payload} ; every gateway writes the payload to every logged-in session. */
  public static final String GATEWAY_BROADCAST = "chat.gateway.all.broadcast";

  /**
   * {userId, payload, sessionId?, deadline?} → {delivered} ; writes payload to the user's
   * sessions on that node (or only to sessionId); fails NO_SESSION when none is there, or when
   * it arrives after deadline (epoch ms).
   */
  public static String gatewayDeliver(String nodeId) {
    return "chat.gateway." + nodeId + ".deliver";
  }

  /**
   * {deadline, items:[{userId, sessionId, text}]} → {taken:[bool]}, both in the binary layout
   * of {@code gateway.DeliverBatch} (which also reads the JSON of earlier releases) ; chats for
   * named sessions on that node, in order: one message for the deliveries one sender's event
   * loop has for that node at a time. The reply says per item whether its
   * session took it; an item is not taken when its session is not there or it would be written
   * after the deadline (epoch ms).
   */
  public static String gatewayDeliverBatch(String nodeId) {
    return "chat.gateway." + nodeId + ".deliver.batch";
  }

  /**
   * {userId, sessionId?} → {} ; messages were stored for a user who is online on that node:
   * that session (or the user's sessions there) delivers the stored messages it has not had,
   * and the reply comes once they are queued; fails NO_SESSION when the session is not there.
   */
  public static String gatewayOfflineCheck(String nodeId) {
    return "chat.gateway." + nodeId + ".offline.check";
  }

  /** {userId, sessionId} → {} once KICKED has been written and the socket is closed. */
  public static String gatewayKick(String nodeId) {
    return "chat.gateway." + nodeId + ".kick";
  }
}
