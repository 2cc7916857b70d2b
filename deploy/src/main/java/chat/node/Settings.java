package chat.node;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * The node's configuration as {@code CHAT_*} names and values: those of the optional JSON
 * file named by {@code CHAT_CONFIG_FILE}, overridden by environment variables (the
 * environment always wins, so a file cannot silently hide an operator's setting).
 */
public final class Settings {

  private final Map<String, String> values;

  private Settings(Map<String, String> values) {
    this.values = Map.copyOf(values);
  }

  public static Settings fromEnvironment() {
    return from(System.getenv());
  }

  /** Settings from the given environment (and the file it names, if any). */
  public static Settings from(Map<String, String> env) {
    Map<String, String> merged = new HashMap<>();
    String file = env.get("CHAT_CONFIG_FILE");
    if (file != null && !file.isBlank()) {
      try {
        new JsonObject(Files.readString(Path.of(file)))
            .forEach(e -> merged.put(e.getKey(), String.valueOf(e.getValue())));
      } catch (IOException e) {
        throw new IllegalArgumentException("cannot read CHAT_CONFIG_FILE " + file, e);
      }
    }
    env.forEach((k, v) -> {
      if (k.startsWith("CHAT_")) {
        merged.put(k, v);
      }
    });
    return new Settings(merged);
  }

  public String get(String name, String fallback) {
    String value = values.get(name);
    return value == null || value.isBlank() ? fallback : value.trim();
  }

  public int getInt(String name, int fallback) {
    String value = get(name, null);
    try {
      return value == null ? fallback : Integer.parseInt(value);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + " must be an integer, was '" + value + "'");
    }
  }

  public long getLong(String name, long fallback) {
    String value = get(name, null);
    try {
      return value == null ? fallback : Long.parseLong(value);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + " must be an integer, was '" + value + "'");
    }
  }

  /** Every setting, by its CHAT_* name. */
  public Map<String, String> asMap() {
    return values;
  }

  /** A copy with some settings replaced (tests start nodes with their own ports). */
  public Settings with(Map<String, String> overrides) {
    Map<String, String> copy = new HashMap<>(values);
    copy.putAll(overrides);
    return new Settings(copy);
  }
}
