package chat.node;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/** The services one node runs ({@code CHAT_ROLES}, default all three). */
public enum Roles {
  GATEWAY, PRESENCE, USER;

  public static Set<Roles> parse(String text) {
    Set<Roles> roles = EnumSet.noneOf(Roles.class);
    for (String part : text.split(",")) {
      if (!part.isBlank()) {
        try {
          roles.add(valueOf(part.trim().toUpperCase(Locale.ROOT)));
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException("unknown role '" + part.trim()
              + "' in CHAT_ROLES (gateway, presence, user)");
        }
      }
    }
    if (roles.isEmpty()) {
      throw new IllegalArgumentException("CHAT_ROLES names no role");
    }
    return roles;
  }
}
