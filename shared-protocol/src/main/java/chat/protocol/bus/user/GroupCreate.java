package chat.protocol.bus.user;

import static chat.protocol.bus.BusFields.checkId;
import static chat.protocol.bus.BusFields.checkName;
import static chat.protocol.bus.BusFields.checkText;

/**
 * Request on {@code chat.user.group.create}: a group whose creator is its first member.
 *
 * @param groupname as a user name (see {@link Register}): held trimmed
 * @param groupdesc at most {@value #MAX_DESC_LENGTH} characters, no control characters but
 *                  newlines; empty when absent
 */
public record GroupCreate(int userId, String groupname, String groupdesc) {

  public static final int MAX_DESC_LENGTH = 255;

  public GroupCreate {
    checkId("userId", userId);
    groupname = checkName("groupname", groupname, Register.MAX_NAME_LENGTH);
    groupdesc = checkText("groupdesc", groupdesc, MAX_DESC_LENGTH);
  }

  /** Reply: the new group's id. */
  public record Reply(int groupid) {
  }
}
