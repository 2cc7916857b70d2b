package chat.protocol.bus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import chat.protocol.wire.ErrorCode;
import chat.protocol.wire.Fields;
import chat.protocol.wire.ProtocolException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The two sets of field rules: client requests ({@link Fields}) and bus requests between
 * services ({@link BusFields}). Where they differ, they differ on purpose.
 */
class FieldRulesTest {

  private static JsonObject body(String key, Object value) {
    return new JsonObject().put(key, value);
  }

  private static void busRefuses(JsonObject body) {
    ServiceFailure failure = assertThrows(ServiceFailure.class, () -> BusFields.id(body, "id"));
    assertEquals(FailureCodes.INVALID_INPUT, failure.code());
  }

  private static void wireRefuses(JsonObject body) {
    ProtocolException error = assertThrows(ProtocolException.class, () -> Fields.id(body, "id"));
    assertEquals(ErrorCode.BAD_REQUEST, error.errno());
  }

  @Test
  void idZeroIsWellFormedFromAClientButNoKeyOnTheBus() {
    assertEquals(0, Fields.id(body("id", 0), "id"));
    busRefuses(body("id", 0));
  }

  @Test
  void bothTakeAPositiveIntegerId() {
    assertEquals(7, Fields.id(body("id", 7), "id"));
    assertEquals(7, BusFields.id(body("id", 7), "id"));
    assertEquals(Integer.MAX_VALUE, BusFields.id(body("id", (long) Integer.MAX_VALUE), "id"));
  }

  @Test
  void bothRefuseNegativeFractionalStringAndTooLargeIds() {
    for (Object bad : List.of(-1, 1.5, "7", Integer.MAX_VALUE + 1L)) {
      busRefuses(body("id", bad));
      wireRefuses(body("id", bad));
    }
  }

  @Test
  void bothRefuseAMissingRequiredId() {
    busRefuses(new JsonObject());
    wireRefuses(new JsonObject());
  }

  @Test
  void busIdListsHoldKeysOnly() {
    assertEquals(List.of(1, 2), BusFields.ids(body("ids", new JsonArray().add(1).add(2)), "ids"));
    assertThrows(ServiceFailure.class,
        () -> BusFields.ids(body("ids", new JsonArray().add(1).add(0)), "ids"));
    assertEquals(0, Fields.ids(body("ids", new JsonArray().add(0)), "ids", 10)[0]);
  }
}
