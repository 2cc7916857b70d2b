package chat.protocol.bus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The mapping rules of {@link BusJson} on their own, with records made for the test: bodies as
 * the event bus hands them over (a local send copies the body, and the copy holds
 * {@link JsonObject} and {@link JsonArray} values; a clustered one is decoded into plain maps
 * and lists), and the strictness that makes a body that does not fit INVALID_INPUT.
 */
class BusJsonTest {

  record Item(String name, int n) {
  }

  record Nested(int userId, JsonObject payload, List<Item> items, List<Integer> ids) {
  }

  record Scalars(String text, int n, long big, Long optional, double d, boolean flag) {
  }

  private static void invalid(JsonObject body, Class<?> type) {
    ServiceFailure failure = assertThrows(ServiceFailure.class, () -> BusJson.fromJson(body, type));
    assertEquals(FailureCodes.INVALID_INPUT, failure.code(), failure.getMessage());
  }

  private static JsonObject nestedBody() {
    JsonObject payload = new JsonObject().put("msgid", 6).put("msg", "hi")
        .put("to", new JsonArray().add(13).add(new JsonObject().put("deep", true)));
    return new JsonObject().put("userId", 13).put("payload", payload)
        .put("items", new JsonArray().add(new JsonObject().put("name", "a").put("n", 1)))
        .put("ids", new JsonArray().add(1).add(2));
  }

  @Test
  void aBodyHoldingJsonObjectsAndJsonArraysIsRead() {
    JsonObject body = nestedBody().copy();
    // what the local event bus hands over: Vert.x values inside the map, not plain maps
    assertInstanceOf(JsonObject.class, body.getMap().get("payload"));
    assertInstanceOf(JsonArray.class, body.getMap().get("items"));
    assertInstanceOf(JsonObject.class, body.getJsonArray("items").getList().get(0));

    Nested read = BusJson.fromJson(body, Nested.class);
    assertEquals(13, read.userId());
    assertEquals(nestedBody().getJsonObject("payload"), read.payload());
    assertEquals(true, read.payload().getJsonArray("to").getJsonObject(1).getBoolean("deep"));
    assertEquals(List.of(new Item("a", 1)), read.items());
    assertEquals(List.of(1, 2), read.ids());
    // the same body decoded from the wire (plain maps and lists) reads the same
    assertEquals(read, BusJson.fromJson(new JsonObject(body.encode()), Nested.class));
  }

  @Test
  void aRecordHoldingAJsonObjectIsWrittenAsItsFields() {
    JsonObject payload = nestedBody().getJsonObject("payload");
    Nested record = new Nested(13, payload, List.of(new Item("a", 1)), List.of(1, 2));
    JsonObject written = BusJson.toJson(record);
    assertEquals(nestedBody(), written);
    assertEquals(nestedBody(), new JsonObject(written.encode()));
    assertEquals(record, BusJson.fromJson(written, Nested.class));
  }

  @Test
  void aNumberOrABooleanIsNeverReadAsAString() {
    JsonObject good = new JsonObject().put("text", "t").put("n", 1).put("big", 2L)
        .put("d", 0.5).put("flag", true);
    assertEquals(new Scalars("t", 1, 2, null, 0.5, true), BusJson.fromJson(good, Scalars.class));
    invalid(good.copy().put("text", 123), Scalars.class);
    invalid(good.copy().put("text", 1.5), Scalars.class);
    invalid(good.copy().put("text", true), Scalars.class);
  }

  @Test
  void aStringIsNeverReadAsANumberNorAFractionAsAnIntegerNorANumberAsABoolean() {
    JsonObject good = new JsonObject().put("text", "t").put("n", 1).put("big", 2L)
        .put("d", 0.5).put("flag", true);
    for (String key : List.of("n", "big", "optional", "d", "flag")) {
      invalid(good.copy().put(key, "1"), Scalars.class);
      invalid(good.copy().put(key, ""), Scalars.class);
      invalid(good.copy().put(key, " "), Scalars.class);
    }
    invalid(good.copy().put("n", true), Scalars.class);
    invalid(good.copy().put("flag", 1), Scalars.class);
    invalid(good.copy().put("n", 1.5), Scalars.class);
    invalid(good.copy().put("big", 2.0), Scalars.class);
    invalid(good.copy().put("optional", 2.5), Scalars.class);
    invalid(good.copy().put("n", Integer.MAX_VALUE + 1L), Scalars.class);
  }

  @Test
  void unknownFieldsAreIgnored() {
    JsonObject body = nestedBody().put("future", new JsonObject().put("x", 1));
    assertEquals(13, BusJson.fromJson(body, Nested.class).userId());
  }
}
