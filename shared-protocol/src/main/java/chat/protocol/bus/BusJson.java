package chat.protocol.bus;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.deser.std.StdDeserializer;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import com.fasterxml.jackson.databind.type.LogicalType;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.json.jackson.VertxModule;
import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * Maps the records of the bus contract to and from the JSON bodies that travel on the event
 * bus (jackson-databind). The wire stays JSON, so a node that still builds a body by hand
 * talks to one that uses the records; a receiver ignores fields it does not know, so nodes
 * can be rolled one at a time.
 *
 * <p>The mapping goes between the record and the body's map directly (Jackson's
 * {@code convertValue}, through its token buffer): no JSON text is written or parsed. A
 * body's map may hold {@link JsonObject} and {@link io.vertx.core.json.JsonArray} values
 * (a body copied by the local event bus does): Vert.x's own Jackson module writes them as the
 * objects and arrays they hold, and reads a record's {@code JsonObject} field back.
 */
public final class BusJson {

  /**
   * Unknown fields are ignored (rolling upgrades); otherwise as strict as {@link BusFields}: a
   * number (or a boolean) is never read from a string, even an empty one, nor an integer from
   * a fraction; a string is never read from a number or a boolean, nor a boolean from a
   * number.
   */
  private static final ObjectMapper MAPPER = new ObjectMapper()
      .registerModule(new VertxModule())
      .registerModule(jsonValues())
      .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
      .configure(DeserializationFeature.ACCEPT_FLOAT_AS_INT, false)
      // a reply with no fields (a record with no components) is the body {}
      .configure(SerializationFeature.FAIL_ON_EMPTY_BEANS, false);

  static {
    for (LogicalType type : new LogicalType[] {LogicalType.Integer, LogicalType.Float,
        LogicalType.Boolean}) {
      MAPPER.coercionConfigFor(type).setCoercion(CoercionInputShape.String, CoercionAction.Fail)
          .setCoercion(CoercionInputShape.EmptyString, CoercionAction.Fail);
    }
    MAPPER.coercionConfigFor(LogicalType.Boolean)
        .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
        .setCoercion(CoercionInputShape.Float, CoercionAction.Fail);
    MAPPER.coercionConfigFor(LogicalType.Textual)
        .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
        .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
        .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail);
  }

  private BusJson() {
  }

  /** The JSON body of a request or reply record. */
  @SuppressWarnings("unchecked")
  public static JsonObject toJson(Object message) {
    try {
      return new JsonObject(MAPPER.convertValue(message, Map.class));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("cannot write " + message.getClass().getSimpleName(), e);
    }
  }

  /**
   * The record a JSON body holds.
   *
   * @throws ServiceFailure with {@link FailureCodes#INVALID_INPUT} when a field is missing, of
   *     the wrong type, or refused by the record
   */
  public static <T> T fromJson(JsonObject body, Class<T> type) {
    if (body == null) {
      throw new ServiceFailure(FailureCodes.INVALID_INPUT, type.getSimpleName() + ": no body");
    }
    try {
      return MAPPER.convertValue(body.getMap(), type);
    } catch (IllegalArgumentException e) {
      // convertValue wraps the mapping error; the record's own refusal is the cause of that
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      cause = cause.getCause() != null ? cause.getCause() : cause;
      throw new ServiceFailure(FailureCodes.INVALID_INPUT,
          type.getSimpleName() + ": " + firstLine(cause.getMessage()));
    }
  }

  /**
   * {@code JsonObject} and {@code JsonArray} written as the map and list they hold, and read
   * back from them, within the conversion under way (registered after {@link VertxModule},
   * whose own ones start a new conversion for each nested value: several times slower on a
   * body that holds a few).
   */
  @SuppressWarnings({"unchecked", "rawtypes"})
  private static SimpleModule jsonValues() {
    return new SimpleModule("bus-json-values")
        .addSerializer(JsonObject.class, new StdSerializer<>(JsonObject.class) {
          @Override
          public void serialize(JsonObject value, JsonGenerator gen, SerializerProvider provider)
              throws IOException {
            provider.defaultSerializeValue(value.getMap(), gen);
          }
        })
        .addSerializer(JsonArray.class, new StdSerializer<>(JsonArray.class) {
          @Override
          public void serialize(JsonArray value, JsonGenerator gen, SerializerProvider provider)
              throws IOException {
            provider.defaultSerializeValue(value.getList(), gen);
          }
        })
        .addDeserializer(JsonObject.class, new StdDeserializer<>(JsonObject.class) {
          @Override
          public JsonObject deserialize(JsonParser p, DeserializationContext ctxt)
              throws IOException {
            return new JsonObject((Map<String, Object>) ctxt.readValue(p, Map.class));
          }
        })
        .addDeserializer(JsonArray.class, new StdDeserializer<>(JsonArray.class) {
          @Override
          public JsonArray deserialize(JsonParser p, DeserializationContext ctxt)
              throws IOException {
            return new JsonArray((List) ctxt.readValue(p, List.class));
          }
        });
  }

  private static String firstLine(String message) {
    return message == null ? "" : message.lines().findFirst().orElse("");
  }
}
