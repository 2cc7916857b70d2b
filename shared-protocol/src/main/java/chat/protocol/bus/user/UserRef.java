package chat.protocol.bus.user;

import static chat.protocol.bus.BusFields.checkId;

/**
 * Request naming one user, on {@code chat.user.account.logout} (reply {@link Empty}),
 * {@code chat.user.profile.get} (reply {@link Profile}) and {@code chat.user.friend.list}
 * (reply {@link FriendIds}).
 */
public record UserRef(int userId) {

  public UserRef {
    checkId("userId", userId);
  }
}
