package chat.protocol.wire;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigDecimal;
import java.math.BigInteger;

/**
 * Reads and checks the fields of a client request. A field of the wrong type or out of range
 * is a bad request (ERROR 400): ids are non-negative integers that fit an int, never strings
 * or fractions.
 */
public final class Fields {

  private Fields() {
  }

  /** The request's msgid, or ERROR 400 when it is missing or not an integer. */
  public static int msgid(JsonObject request) {
    Object value = request.getValue("msgid");
    Long id = asLong(value);
    if (id == null || id < 0 || id > Integer.MAX_VALUE) {
      throw ProtocolException.badRequest("msgid must be a non-negative integer");
    }
    return id.intValue();
  }

  /** A required id field: a non-negative integer. */
  public static int id(JsonObject request, String field) {
    Integer id = optionalId(request, field);
    if (id == null) {
      throw ProtocolException.badRequest(field + " is required");
    }
    return id;
  }

  /** An optional id field: null when absent, ERROR 400 when present but not a valid id. */
  public static Integer optionalId(JsonObject request, String field) {
    if (!request.containsKey(field) || request.getValue(field) == null) {
      return null;
    }
    Long id = asLong(request.getValue(field));
    if (id == null || id < 0 || id > Integer.MAX_VALUE) {
      throw ProtocolException.badRequest(field + " must be a non-negative integer");
    }
    return id.intValue();
  }

  /** A required string field. */
  public static String string(JsonObject request, String field) {
    String text = optionalString(request, field);
    if (text == null) {
      throw ProtocolException.badRequest(field + " is required");
    }
    return text;
  }

  /** An optional string field: null when absent, ERROR 400 when present but not a string. */
  public static String optionalString(JsonObject request, String field) {
    Object value = request.getValue(field);
    if (value == null) {
      return null;
    }
    if (!(value instanceof String text)) {
      throw ProtocolException.badRequest(field + " must be a string");
    }
    return text;
  }

  /** A required array of ids. */
  public static int[] ids(JsonObject request, String field, int maxCount) {
    Object value = request.getValue(field);
    if (!(value instanceof JsonArray array)) {
      throw ProtocolException.badRequest(field + " must be an array of ids");
    }
    if (array.size() > maxCount) {
      throw ProtocolException.badRequest(field + " may hold at most " + maxCount + " ids");
    }
    int[] ids = new int[array.size()];
    for (int i = 0; i < ids.length; i++) {
      Long id = asLong(array.getValue(i));
      if (id == null || id < 0 || id > Integer.MAX_VALUE) {
        throw ProtocolException.badRequest(field + " must hold non-negative integer ids");
      }
      ids[i] = id.intValue();
    }
    return ids;
  }

  /** The request's {@code seq} to echo: a number or a string chosen by the client, or null. */
  public static Object seq(JsonObject request) {
    Object seq = request.getValue("seq");
    return seq instanceof Number || seq instanceof String ? seq : null;
  }

  private static Long asLong(Object value) {
    if (value instanceof Integer || value instanceof Long || value instanceof Short
        || value instanceof Byte) {
      return ((Number) value).longValue();
    }
    if (value instanceof BigInteger big) {
      return big.bitLength() < 63 ? big.longValue() : null;
    }
    if (value instanceof BigDecimal || value instanceof Double || value instanceof Float) {
      return null;
    }
    return null;
  }
}
