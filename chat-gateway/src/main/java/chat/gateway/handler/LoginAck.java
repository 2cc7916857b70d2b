package chat.gateway.handler;

import chat.protocol.bus.presence.States;
import chat.protocol.wire.MsgId;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * Builds LOGIN_MSG_ACK from the user's profile and the presence of the people in it. Classic
 * clients get {@code offlinemsg}, {@code friends}, {@code groups} (and a group's
 * {@code users}) as arrays of JSON texts; {@code "format":"structured"} gets objects. A
 * friend carries {@code v}, the version of its state (the same as in PRESENCE).
 */
final class LoginAck {

  private LoginAck() {
  }

  /**
   * @param presence presence's answer for {@link #peopleIn} (a user it did not name is
   *                 offline, at version 0)
   */
  static JsonObject build(int userId, String name, String token, JsonObject profile,
                          States presence, boolean structured, JsonObject heartbeat) {
    JsonArray friends = new JsonArray();
    for (Object f : profile.getJsonArray("friends", new JsonArray())) {
      JsonObject friend = (JsonObject) f;
      friends.add(item(new JsonObject()
          .put("id", friend.getInteger("id"))
          .put("name", friend.getString("name"))
          .put("state", presence.stateOf(friend.getInteger("id")))
          .put("v", presence.versionOf(friend.getInteger("id"))), structured));
    }
    JsonArray groups = new JsonArray();
    for (Object g : profile.getJsonArray("groups", new JsonArray())) {
      JsonObject group = (JsonObject) g;
      JsonArray users = new JsonArray();
      for (Object u : group.getJsonArray("users", new JsonArray())) {
        JsonObject member = (JsonObject) u;
        users.add(item(new JsonObject()
            .put("id", member.getInteger("id"))
            .put("name", member.getString("name"))
            .put("role", member.getString("role"))
            .put("state", presence.stateOf(member.getInteger("id"))), structured));
      }
      groups.add(item(new JsonObject()
          .put("id", group.getInteger("id"))
          .put("groupname", group.getString("groupname"))
          .put("groupdesc", group.getString("groupdesc", ""))
          .put("users", users), structured));
    }
    JsonArray offline = new JsonArray();
    for (Object m : profile.getJsonArray("offline", new JsonArray())) {
      offline.add(item(((JsonObject) m).getJsonObject("message"), structured));
    }
    return new JsonObject()
        .put("msgid", MsgId.LOGIN_ACK)
        .put("errno", 0)
        .put("id", userId)
        .put("name", name)
        .put("offlinemsg", offline)
        .put("friends", friends)
        .put("groups", groups)
        .put("token", token)
        .put("heartbeat", heartbeat);
  }

  /** Every user id the ack shows a state for. */
  static JsonArray peopleIn(JsonObject profile) {
    JsonArray ids = new JsonArray();
    for (Object f : profile.getJsonArray("friends", new JsonArray())) {
      ids.add(((JsonObject) f).getInteger("id"));
    }
    for (Object g : profile.getJsonArray("groups", new JsonArray())) {
      for (Object u : ((JsonObject) g).getJsonArray("users", new JsonArray())) {
        ids.add(((JsonObject) u).getInteger("id"));
      }
    }
    return ids;
  }

  private static Object item(JsonObject value, boolean structured) {
    return structured ? value : value.encode();
  }
}
