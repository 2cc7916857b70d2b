package chat.protocol.bus.user;

/** A user as others see it: id and name. */
public record NameCard(int id, String name) {
}
