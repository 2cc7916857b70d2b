package chat.protocol.bus.user;

import static chat.protocol.bus.BusFields.checkId;
import static chat.protocol.bus.BusFields.invalid;

/**
 * Request on {@code chat.user.friend.add}: a mutual friendship (idempotent). Befriending
 * oneself is refused.
 */
public record FriendAdd(int userId, int friendId) {

  public FriendAdd {
    checkId("userId", userId);
    checkId("friendId", friendId);
    if (userId == friendId) {
      throw invalid("cannot befriend oneself");
    }
  }

  /**
   * Reply: both users, so that both sides can be told. Either is {@code null} when a service
   * answered {@code {}} (the caller then asks the profile for the name).
   */
  public record Reply(NameCard user, NameCard friend) {
  }
}
