package chat.protocol.bus.presence;

import java.util.Arrays;
import java.util.List;

/** Request on {@code chat.presence.locate} and {@code chat.presence.query}: whom to look up. */
public record UserIds(List<Integer> ids) {

  public UserIds {
    ids = ids == null ? List.of() : List.copyOf(ids);
  }

  public static UserIds of(int... ids) {
    return new UserIds(Arrays.stream(ids).boxed().toList());
  }
}
