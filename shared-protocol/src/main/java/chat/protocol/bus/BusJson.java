package chat.protocol.bus;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.type.LogicalType;
import io.vertx.core.json.JsonObject;
import io.vertx.core.json.jackson.VertxModule;

/**
 * Maps the records of the bus contract to and from the JSON bodies that travel on the event
 * bus (jackson-databind). The wire stays JSON, so a node that still builds a body by hand
 * talks to one that uses the records; a receiver ignores fields it does not know, so nodes
 * can be rolled one at a time.
 */
public final class BusJson {

  /**
   * Unknown fields are ignored (rolling upgrades); otherwise as strict as {@link BusFields}: a
   * number is never read from a string nor an integer from a fraction.
   */
  private static final ObjectMapper MAPPER = new ObjectMapper()
      .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
      .configure(DeserializationFeature.ACCEPT_FLOAT_AS_INT, false);

  static {
    for (LogicalType type : new LogicalType[] {LogicalType.Integer, LogicalType.Float,
        LogicalType.Boolean}) {
      MAPPER.coercionConfigFor(type).setCoercion(CoercionInputShape.String, CoercionAction.Fail);
    }
    // nor a string from a number or a boolean, nor a boolean from a number (as BusFields)
    MAPPER.coercionConfigFor(LogicalType.Textual)
        .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
        .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
        .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail);
    MAPPER.coercionConfigFor(LogicalType.Boolean)
        .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail);
    // JsonObject and JsonArray fields (a chat as the client sent it) map as JSON
    MAPPER.registerModule(new VertxModule());
  }

  private BusJson() {
  }

  /** The JSON body of a request or reply record. */
  public static JsonObject toJson(Object message) {
    try {
      return new JsonObject(MAPPER.writeValueAsString(message));
    } catch (JsonProcessingException e) {
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
      return MAPPER.readValue(body.encode(), type);
    } catch (JsonProcessingException e) {
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      throw new ServiceFailure(FailureCodes.INVALID_INPUT,
          type.getSimpleName() + ": " + cause.getMessage().lines().findFirst().orElse(""));
    }
  }
}
