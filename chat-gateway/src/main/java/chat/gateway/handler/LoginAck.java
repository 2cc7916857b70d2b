package chat.gateway.handler;

import chat.protocol.bus.presence.States;
import chat.protocol.bus.user.NameCard;
import chat.protocol.bus.user.OfflinePage;
import chat.protocol.bus.user.Profile;

import chat.protocol.wire.MsgId;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

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
   * @param offline  the stored messages the ack gives
   * @param presence presence's answer for {@link #peopleIn} (a user it did not name is
   *                 offline, at version 0)
   */
  static JsonObject build(int userId, String name, String token, Profile profile,
                          List<OfflinePage.Stored> offline, States presence,
                          boolean structured, JsonObject heartbeat) {
    JsonArray friends = new JsonArray();
    for (NameCard friend : profile.friends()) {
      friends.add(item(new JsonObject()
          .put("id", friend.id())
          .put("name", friend.name())
          .put("state", presence.stateOf(friend.id()))
          .put("v", presence.versionOf(friend.id())), structured));
    }
    JsonArray groups = new JsonArray();
    for (Profile.Group group : profile.groups()) {
      JsonArray users = new JsonArray();
      for (Profile.Member member : group.users()) {
        users.add(item(new JsonObject()
            .put("id", member.id())
            .put("name", member.name())
            .put("role", member.role())
            .put("state", presence.stateOf(member.id())), structured));
      }
      groups.add(item(new JsonObject()
          .put("id", group.id())
          .put("groupname", group.groupname())
          .put("groupdesc", group.groupdesc())
          .put("users", users), structured));
    }
    JsonArray offlinemsg = new JsonArray();
    for (OfflinePage.Stored stored : offline) {
      offlinemsg.add(item(stored.message(), structured));
    }
    return new JsonObject()
        .put("msgid", MsgId.LOGIN_ACK)
        .put("errno", 0)
        .put("id", userId)
        .put("name", name)
        .put("offlinemsg", offlinemsg)
        .put("friends", friends)
        .put("groups", groups)
        .put("token", token)
        .put("heartbeat", heartbeat);
  }

  /** Every user id the ack shows a state for. */
  static JsonArray peopleIn(Profile profile) {
    JsonArray ids = new JsonArray();
    profile.friends().forEach(friend -> ids.add(friend.id()));
    profile.groups().forEach(group -> group.users().forEach(member -> ids.add(member.id())));
    return ids;
  }

  private static Object item(JsonObject value, boolean structured) {
    return structured ? value : value.encode();
  }
}
