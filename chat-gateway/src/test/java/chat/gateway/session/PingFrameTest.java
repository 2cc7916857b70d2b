package chat.gateway.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import chat.protocol.wire.Fields;
import chat.protocol.wire.Replies;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A PING recognised from its bytes gets the PONG the parsed path writes, byte for byte; any
 * frame not of the recognised shapes is left to the parsed path.
 */
class PingFrameTest {

  @Test
  void theShapesClientsSendAreRecognisedAndAnsweredAsTheParsedPathAnswers() {
    List<String> frames = List.of(
        "{\"msgid\":100}",
        "{\"msgid\":100,\"seq\":0}",
        "{\"msgid\":100,\"seq\":7}",
        "{\"msgid\":100,\"seq\":123456789012345678}",
        "{\"msgid\":100,\"seq\":\"\"}",
        "{\"msgid\":100,\"seq\":\"p\"}",
        "{\"msgid\":100,\"seq\":\"a-Z_0.9:x\"}",
        "{\"msgid\":100,\"seq\":\"" + "s".repeat(64) + "\"}");
    for (String frame : frames) {
      String seq = PingFrame.seqOf(Buffer.buffer(frame));
      assertEquals(parsedPong(frame), Replies.pongText(seq), frame);
      assertEquals(Fields.seq(new JsonObject(frame)), PingFrame.seqValue(seq), frame);
    }
  }

  @Test
  void anythingElseIsLeftToTheParsedPath() {
    List<String> frames = List.of(
        "{\"msgid\":1}",
        "{\"msgid\":10}",
        "{\"msgid\":1000}",
        "{\"msgid\":101}",
        "{\"msgid\":100 }",
        "{ \"msgid\":100}",
        "{\"msgid\": 100}",
        "{\"msgid\":100,\"seq\": 1}",
        "{\"msgid\":100, \"seq\":1}",
        "{\"seq\":1,\"msgid\":100}",
        "{\"msgid\":100,\"seq\":01}",
        "{\"msgid\":100,\"seq\":-1}",
        "{\"msgid\":100,\"seq\":1.5}",
        "{\"msgid\":100,\"seq\":1e3}",
        "{\"msgid\":100,\"seq\":1234567890123456789}",
        "{\"msgid\":100,\"seq\":}",
        "{\"msgid\":100,\"seq\":\"}",
        "{\"msgid\":100,\"seq\":\"a\"b\"}",
        "{\"msgid\":100,\"seq\":\"a b\"}",
        "{\"msgid\":100,\"seq\":\"\\n\"}",
        "{\"msgid\":100,\"seq\":\"é\"}",
        "{\"msgid\":100,\"seq\":\"" + "s".repeat(65) + "\"}",
        "{\"msgid\":100,\"seq\":null}",
        "{\"msgid\":100,\"seq\":true}",
        "{\"msgid\":100,\"seq\":[1]}",
        "{\"msgid\":100,\"seq\":1,\"x\":2}",
        "{\"msgid\":100,\"x\":1}",
        "{\"msgid\":100,\"msgid\":1}",
        "{\"msgid\":\"100\"}",
        "{\"msgid\":100",
        "{}");
    for (String frame : frames) {
      assertNull(PingFrame.seqOf(Buffer.buffer(frame)), frame);
    }
  }

  private static String parsedPong(String frame) {
    return Replies.pong(Fields.seq(new JsonObject(frame))).encode();
  }
}
