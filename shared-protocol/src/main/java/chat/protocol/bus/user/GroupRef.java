package chat.protocol.bus.user;

import static chat.protocol.bus.BusFields.checkId;

import java.util.List;

/**
 * Request naming a user and a group, on {@code chat.user.group.join} (reply {@link Empty})
 * and {@code chat.user.group.members} (reply {@link Members}).
 */
public record GroupRef(int userId, int groupid) {

  public GroupRef {
    checkId("userId", userId);
    checkId("groupid", groupid);
  }

  /** Reply on {@code chat.user.group.members}: the ids of the group's members. */
  public record Members(List<Integer> members) {

    public Members {
      members = members == null ? List.of() : List.copyOf(members);
    }
  }
}
