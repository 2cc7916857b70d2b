package chat.protocol.bus.user;

import java.util.List;

/** Reply on {@code chat.user.friend.list} (request {@link UserRef}): the user's friends' ids. */
public record FriendIds(List<Integer> ids) {

  public FriendIds {
    ids = ids == null ? List.of() : List.copyOf(ids);
  }
}
