package chat.protocol.bus.user;

import java.util.List;

/**
 * Reply on {@code chat.user.profile.get} (request {@link UserRef}): the user's friends (by id)
 * and groups (by id, each with its users by id). No states: presence owns them. An unknown
 * user has an empty profile.
 */
public record Profile(List<NameCard> friends, List<Group> groups) {

  public Profile {
    friends = friends == null ? List.of() : List.copyOf(friends);
    groups = groups == null ? List.of() : List.copyOf(groups);
  }

  /** A group the user is in; {@code groupdesc} may be empty. */
  public record Group(int id, String groupname, String groupdesc, List<Member> users) {

    public Group {
      groupdesc = groupdesc == null ? "" : groupdesc;
      users = users == null ? List.of() : List.copyOf(users);
    }
  }

  /** A user of a group and its role ({@code creator} or {@code normal}). */
  public record Member(int id, String name, String role) {
  }
}
