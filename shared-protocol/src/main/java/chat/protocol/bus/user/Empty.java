package chat.protocol.bus.user;

/**
 * The body {@code {}}: the request of {@code chat.user.service.ping}, and the reply of it, of
 * {@code chat.user.account.logout} and of {@code chat.user.group.join} (done).
 */
public record Empty() {

  public static final Empty INSTANCE = new Empty();
}
