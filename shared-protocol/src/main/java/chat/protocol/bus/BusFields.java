package chat.protocol.bus;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads typed fields from the bodies of event-bus requests between services; anything missing
 * or mistyped is a {@link ServiceFailure} with {@link FailureCodes#INVALID_INPUT}.
 *
 * <p>The fields of client requests are read by {@link chat.protocol.wire.Fields} under the
 * client protocol's rules, which differ on purpose:
 * <ul>
 *   <li>an id here is a database key, at least 1; on the wire any non-negative id is well
 *       formed (the contract calls only strings, fractions and negative ids malformed), so an
 *       id 0 a client sent is refused here, as INVALID_INPUT;</li>
 *   <li>a refusal here is a bus failure code; there it is ERROR 400 to the client.</li>
 * </ul>
 */
public final class BusFields {

  private BusFields() {
  }

  /** A positive integer id (JSON integer, not a string or a fraction). */
  public static int id(JsonObject body, String key) {
    Integer id = optionalId(body, key);
    if (id == null) {
      throw invalid(key + " is required");
    }
    return id;
  }

  public static Integer optionalId(JsonObject body, String key) {
    Object value = body.getValue(key);
    if (value == null) {
      return null;
    }
    if (!(value instanceof Integer || value instanceof Long)) {
      throw invalid(key + " must be an integer");
    }
    long id = ((Number) value).longValue();
    if (id < 1 || id > Integer.MAX_VALUE) {
      throw invalid(key + " is out of range");
    }
    return (int) id;
  }

  /** A non-negative integer. */
  public static long nonNegativeLong(JsonObject body, String key) {
    Object value = body.getValue(key);
    if (!(value instanceof Integer || value instanceof Long)) {
      throw invalid(key + " must be an integer");
    }
    long n = ((Number) value).longValue();
    if (n < 0) {
      throw invalid(key + " must not be negative");
    }
    return n;
  }

  /** An optional integer within 0..Integer.MAX_VALUE; {@code dflt} when absent. */
  public static int nonNegativeInt(JsonObject body, String key, int dflt) {
    if (body.getValue(key) == null) {
      return dflt;
    }
    return (int) Math.min(nonNegativeLong(body, key), Integer.MAX_VALUE);
  }

  /** An optional integer of at least 1; {@code dflt} when absent. */
  public static int positiveInt(JsonObject body, String key, int dflt) {
    int n = nonNegativeInt(body, key, dflt);
    if (n < 1) {
      throw invalid(key + " must be positive");
    }
    return n;
  }

  /** An optional boolean: true or false, false when absent. */
  public static boolean flag(JsonObject body, String key) {
    Object value = body.getValue(key);
    if (value != null && !(value instanceof Boolean)) {
      throw invalid(key + " must be true or false");
    }
    return Boolean.TRUE.equals(value);
  }

  public static JsonArray array(JsonObject body, String key) {
    Object value = body.getValue(key);
    if (!(value instanceof JsonArray array)) {
      throw invalid(key + " must be a JSON array");
    }
    return array;
  }

  /** An optional array of positive integer ids; empty when absent. */
  public static List<Integer> ids(JsonObject body, String key) {
    if (body.getValue(key) == null) {
      return List.of();
    }
    JsonArray array = array(body, key);
    List<Integer> ids = new ArrayList<>(array.size());
    for (Object value : array) {
      if (!(value instanceof Integer || value instanceof Long)) {
        throw invalid(key + " must hold integer ids");
      }
      long id = ((Number) value).longValue();
      if (id < 1 || id > Integer.MAX_VALUE) {
        throw invalid(key + " holds an id out of range");
      }
      ids.add((int) id);
    }
    return ids;
  }

  // ---- the same rules on values a record holds (its compact constructor checks them) ----

  /**
   * An id field of a record: 1..2^31-1. A JSON body whose id is a string, a fraction or too
   * large does not even become the record; an absent id reads as 0 and is refused here.
   */
  public static int checkId(String key, int id) {
    if (id < 1) {
      throw invalid(key + " is required and must be an id from 1 to " + Integer.MAX_VALUE);
    }
    return id;
  }

  /** An optional id: absent ({@code null}) or 1..2^31-1. */
  public static Integer checkOptionalId(String key, Integer id) {
    return id == null ? null : checkId(key, id);
  }

  /** A list of ids, each 1..2^31-1; empty when absent. */
  public static List<Integer> checkIds(String key, List<Integer> ids) {
    if (ids == null) {
      return List.of();
    }
    for (Integer id : ids) {
      if (id == null || id < 1) {
        throw invalid(key + " holds an id out of range");
      }
    }
    return List.copyOf(ids);
  }

  /** A non-negative number, or absent ({@code null}). */
  public static Integer checkNonNegative(String key, Integer n) {
    if (n != null && n < 0) {
      throw invalid(key + " must not be negative");
    }
    return n;
  }

  /** A positive number, or absent ({@code null}). */
  public static Integer checkPositive(String key, Integer n) {
    if (n != null && n < 1) {
      throw invalid(key + " must be positive");
    }
    return n;
  }

  public static <T> T required(String key, T value) {
    if (value == null) {
      throw invalid(key + " is required");
    }
    return value;
  }

  /** As {@link #token(JsonObject, String, int)}. */
  public static String checkToken(String key, String value, int max) {
    required(key, value);
    if (value.isEmpty() || value.length() > max || hasControlCharacter(value)) {
      throw invalid(key + " must have 1 to " + max + " printable characters");
    }
    return value;
  }

  /** As {@link #name(JsonObject, String, int)}: the name, trimmed. */
  public static String checkName(String key, String value, int max) {
    String name = required(key, value).strip();
    int length = name.codePointCount(0, name.length());
    if (length == 0 || length > max) {
      throw invalid(key + " must have 1 to " + max + " characters");
    }
    if (hasControlCharacter(name)) {
      throw invalid(key + " must not contain control characters");
    }
    return name;
  }

  /** As {@link #text(JsonObject, String, int)}: empty when absent. */
  public static String checkText(String key, String text, int max) {
    if (text == null) {
      return "";
    }
    if (text.codePointCount(0, text.length()) > max) {
      throw invalid(key + " must have at most " + max + " characters");
    }
    if (text.chars().anyMatch(c -> c != '\n' && Character.isISOControl(c))) {
      throw invalid(key + " must not contain control characters");
    }
    return text;
  }

  /** As {@link #password(JsonObject, String, int)}. */
  public static String checkPassword(String key, String password, int max) {
    required(key, password);
    int length = password.codePointCount(0, password.length());
    if (length == 0 || length > max) {
      throw invalid(key + " must have 1 to " + max + " characters");
    }
    return password;
  }

  /** A non-empty string of at most {@code max} characters without control characters. */
  public static String token(JsonObject body, String key, int max) {
    return checkToken(key, string(body, key), max);
  }

  public static String string(JsonObject body, String key) {
    String value = optionalString(body, key);
    if (value == null) {
      throw invalid(key + " is required");
    }
    return value;
  }

  public static String optionalString(JsonObject body, String key) {
    Object value = body.getValue(key);
    if (value != null && !(value instanceof String)) {
      throw invalid(key + " must be a string");
    }
    return (String) value;
  }

  public static JsonObject object(JsonObject body, String key) {
    Object value = body.getValue(key);
    if (!(value instanceof JsonObject json)) {
      throw invalid(key + " must be a JSON object");
    }
    return json;
  }

  /**
   * A display name (user or group): trimmed, 1 to {@code max} characters (code points), no
   * control characters.
   */
  public static String name(JsonObject body, String key, int max) {
    return checkName(key, string(body, key), max);
  }

  /** Free text of at most {@code max} characters without control characters other than newline. */
  public static String text(JsonObject body, String key, int max) {
    return checkText(key, optionalString(body, key), max);
  }

  /** A password: 1 to {@code max} characters, taken as given (not trimmed). */
  public static String password(JsonObject body, String key, int max) {
    return checkPassword(key, string(body, key), max);
  }

  public static boolean hasControlCharacter(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isISOControl(c) || c == '\u2028' || c == '\u2029') {
        return true;
      }
    }
    return false;
  }

  public static ServiceFailure invalid(String message) {
    return new ServiceFailure(FailureCodes.INVALID_INPUT, message);
  }
}
