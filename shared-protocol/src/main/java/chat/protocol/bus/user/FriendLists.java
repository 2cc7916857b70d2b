package chat.protocol.bus.user;

import static chat.protocol.bus.BusFields.checkId;
import static chat.protocol.bus.BusFields.checkIds;

import chat.protocol.bus.BusFields;
import java.util.List;

/**
 * Request on {@code chat.user.friend.lists}: the friends of many users at once (at most
 * {@link #MAX_USERS}), for presence when many users change state together (a node lost with
 * all its sessions). One database query answers it, where one {@code chat.user.friend.list}
 * per user would be thousands.
 */
public record FriendLists(List<Integer> userIds) {

  /** The most users one request may name. */
  public static final int MAX_USERS = 500;

  public FriendLists {
    userIds = checkIds("userIds", userIds);
    if (userIds.isEmpty() || userIds.size() > MAX_USERS) {
      throw BusFields.invalid("userIds must name 1 to " + MAX_USERS + " users");
    }
  }

  /** The reply: each user named, with its friends' ids (none: an empty list). */
  public record Reply(List<Of> lists) {

    public Reply {
      lists = lists == null ? List.of() : List.copyOf(lists);
    }
  }

  /** One user's friends. */
  public record Of(int userId, List<Integer> ids) {

    public Of {
      checkId("userId", userId);
      ids = checkIds("ids", ids);
    }
  }
}
