package chat.protocol.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

/** The streaming reader and writer give what Vert.x's JsonObject gives, byte for byte. */
class JsonTextTest {

  private static void sameAsVertx(JsonObject message) {
    byte[] expected = message.encode().getBytes(StandardCharsets.UTF_8);
    assertEquals(new String(expected, StandardCharsets.UTF_8),
        JsonText.toBuffer(message).toString(StandardCharsets.UTF_8));
    assertEquals(Buffer.buffer(expected), JsonText.toBuffer(message));
    assertEquals(message.encode(), JsonText.toString(message));
    // a chat's text made once (toString) is written to a socket as its UTF-8 bytes
    assertEquals(JsonText.toBuffer(message),
        Buffer.buffer(JsonText.toString(message).getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void writesAChatAsVertxDoes() {
    sameAsVertx(new JsonObject().put("msgid", 6).put("id", 13).put("name", "li si")
        .put("toid", 15).put("msg", "hello \"quoted\" \\ / \n\t\u0001 你好 😀 café")
        .put("time", "2026-12-02 08:00:00").put("msgno", "a1b2c3d4e5f6a7b8:1z"));
  }

  @Test
  void writesEveryValueTypeAsVertxDoes() {
    sameAsVertx(new JsonObject()
        .put("int", Integer.MIN_VALUE).put("long", Long.MAX_VALUE).put("double", 0.1)
        .put("float", 1.5f).put("big", new BigInteger("123456789012345678901234567890"))
        .put("decimal", new BigDecimal("1.000000000000000000001")).put("true", true)
        .putNull("null").put("instant", Instant.ofEpochMilli(1_796_196_000_123L))
        .put("bytes", new byte[] {1, 2, 3}).put("empty", "")
        .put("object", new JsonObject().put("a", new JsonArray().add(1).add("x").addNull()))
        .put("map", Map.of("k", List.of(1, 2)))
        .put("array", new JsonArray().add(new JsonObject()).add(new JsonArray())));
  }

  @Test
  void aLoneSurrogateIsWrittenAsVertxWritesIt() {
    sameAsVertx(new JsonObject().put("msg", "half \ud83d of a pair").put("low", "\ude00"));
    sameAsVertx(new JsonObject().put("msg", "typed as text: \\uD83D \\ud800"));
  }

  @Test
  void aValueOnlyDataBindingKnowsIsWrittenByIt() {
    record Point(int x, int y) {
    }
    sameAsVertx(new JsonObject().put("msgid", 1).put("point", new Point(1, 2)));
  }

  @Property(tries = 300)
  void anyStringIsWrittenAsVertxWritesIt(@ForAll String text, @ForAll long number) {
    sameAsVertx(new JsonObject().put("msg", text).put(text, number));
  }

  @Property(tries = 300)
  void whatItWritesReadsBackAsVertxReadsIt(@ForAll String text, @ForAll int number) {
    JsonObject message = new JsonObject().put("msg", text).put("n", number)
        .put("nested", new JsonObject().put("list", new JsonArray().add(text).add(1.25)));
    Buffer bytes = Buffer.buffer(message.encode());
    assertEquals(new JsonObject(bytes), JsonText.parseObject(bytes));
    assertEquals(new JsonObject(message.encode()), JsonText.parseObject(message.encode()));
  }

  @Test
  void readsNumbersCommentsAndDuplicatesAsVertxDoes() {
    String text = "{\"a\":1,/* a comment */\"b\":12345678901,\"c\":123456789012345678901234,"
        + "\"d\":1.5,\"e\":1e400,\"a\":2,\"f\":[true,false,null],\"g\":{}}";
    JsonObject expected = new JsonObject(text);
    JsonObject read = JsonText.parseObject(Buffer.buffer(text));
    assertEquals(expected, read);
    assertEquals(expected.getValue("b").getClass(), read.getValue("b").getClass());
    assertEquals(expected.getValue("c").getClass(), read.getValue("c").getClass());
    assertEquals(expected.getValue("d").getClass(), read.getValue("d").getClass());
    assertEquals(expected.encode(), read.encode());
  }

  @Test
  void refusesWhatIsNotOneJsonObject() {
    for (String text : List.of("[1,2]", "3", "\"x\"", "null", "{\"a\":1} {\"b\":2}", "{\"a\":",
        "{\"a\" 1}", "{'a':1}", "", "{\"a\":01}")) {
      assertThrows(DecodeException.class, () -> JsonText.parseObject(Buffer.buffer(text)), text);
      assertThrows(DecodeException.class, () -> JsonText.parseObject(text), text);
    }
  }
}
