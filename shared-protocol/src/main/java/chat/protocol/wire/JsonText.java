package chat.protocol.wire;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.io.SegmentedStringWriter;
import com.fasterxml.jackson.core.util.BufferRecycler;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.core.json.jackson.HybridJacksonPool;
import io.vertx.core.json.jackson.JacksonCodec;
import java.io.IOException;
import java.util.Map;

/**
 * A message's JSON text, read and written with Jackson's streaming parser and generator: the
 * same values and the same text as {@code new JsonObject(text)} and {@link JsonObject#encode()},
 * without the data-binding layer those go through (a serializer or deserializer looked up for
 * every map, and for bytes a String between the object and its UTF-8). Every request a client
 * sends and every frame a client is written goes through here.
 *
 * <p>Parsing uses Vert.x's own parser factory, so what it accepts (comments, nesting and
 * length limits) is exactly what {@code new JsonObject(text)} accepts. A message holding a
 * value the streaming writer cannot write as it is (a type other than JSON's own, Vert.x's
 * JSON types, {@code Instant}, bytes and enums) is written by {@link JsonObject#encode()}, and
 * so is one holding characters beyond the BMP (the UTF-8 generator would write each half of
 * their surrogate pair as a {@code \\u} escape, where Vert.x writes their four UTF-8 bytes, or
 * {@code ?} for half a pair).
 */
public final class JsonText {

  private static final JsonFactory WRITER = JsonFactory.builder()
      .recyclerPool(HybridJacksonPool.getInstance())
      .build();

  private JsonText() {
  }

  /**
   * The JSON object of a UTF-8 text.
   *
   * @throws DecodeException when the text is not one JSON value, or that value is not an object
   */
  public static JsonObject parseObject(Buffer text) {
    return new JsonObject(asMap(JacksonCodec.fromParser(JacksonCodec.createParser(text),
        Object.class)));
  }

  /** As {@link #parseObject(Buffer)}, from a String. */
  public static JsonObject parseObject(String text) {
    return new JsonObject(asMap(JacksonCodec.fromParser(JacksonCodec.createParser(text),
        Object.class)));
  }

  private static Map<String, Object> asMap(Object value) {
    if (value instanceof JsonObject object) {
      return object.getMap();
    }
    throw new DecodeException("not a JSON object");
  }

  /** The compact JSON text of {@code message} in UTF-8. */
  public static Buffer toBuffer(JsonObject message) {
    BufferRecycler recycler = WRITER._getBufferRecycler();
    try (ByteArrayBuilder bytes = new ByteArrayBuilder(recycler)) {
      try (JsonGenerator generator = WRITER.createGenerator(bytes)) {
        JacksonCodec.encodeJson(message, generator);
      }
      byte[] text = bytes.toByteArray();
      bytes.release();
      return Buffer.buffer(hasSurrogateEscape(text) ? message.encode().getBytes(UTF_8) : text);
    } catch (IOException | RuntimeException e) {
      return Buffer.buffer(message.encode().getBytes(UTF_8));
    } finally {
      recycler.releaseToPool();
    }
  }

  /**
   * Whether {@code text} holds an escape the generator wrote for a surrogate, {@code \\uD800}
   * to {@code \\uDFFF} (or text that looks like one: the caller then takes the slow path).
   */
  private static boolean hasSurrogateEscape(byte[] text) {
    for (int i = 0; i + 3 < text.length; i++) {
      if (text[i] == '\\' && text[i + 1] == 'u' && (text[i + 2] == 'D' || text[i + 2] == 'd')) {
        byte third = text[i + 3];
        if ((third >= '8' && third <= '9') || (third >= 'A' && third <= 'F')
            || (third >= 'a' && third <= 'f')) {
          return true;
        }
      }
    }
    return false;
  }

  /** The compact JSON text of {@code message}. */
  public static String toString(JsonObject message) {
    BufferRecycler recycler = WRITER._getBufferRecycler();
    try (SegmentedStringWriter text = new SegmentedStringWriter(recycler)) {
      try (JsonGenerator generator = WRITER.createGenerator(text)) {
        JacksonCodec.encodeJson(message, generator);
      }
      return text.getAndClear();
    } catch (IOException | RuntimeException e) {
      return message.encode();
    } finally {
      recycler.releaseToPool();
    }
  }
}
