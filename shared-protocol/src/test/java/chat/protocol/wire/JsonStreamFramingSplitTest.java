package chat.protocol.wire;

import static chat.protocol.wire.FramingRecorder.MALFORMED;
import static chat.protocol.wire.FramingRecorder.TOO_LARGE;
import static chat.protocol.wire.FramingRecorder.frameEvent;
import static chat.protocol.wire.FramingRecorder.utf8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Feeds fixed streams split at every possible place (into two and three chunks, and byte by
 * byte) and checks that the framer reports exactly what it reports for the whole stream.
 */
class JsonStreamFramingSplitTest {

  /** Several messages, escapes, multibyte text, all terminators, garbage and a broken object. */
  private static final String MIXED =
      "{\"a\":\"}\\\"{\"}\0{\"b\":[1,{}]}{\"c\":\"中😀\"}\r\nxx\n{\"d\":\n {\"e\":\"\\\\\"}\0";

  private static final List<String> MIXED_EVENTS = List.of(
      frameEvent("{\"a\":\"}\\\"{\"}"),
      frameEvent("{\"b\":[1,{}]}"),
      frameEvent("{\"c\":\"中😀\"}"),
      MALFORMED,
      MALFORMED,
      frameEvent("{\"e\":\"\\\\\"}"));

  static Stream<Arguments> streams() {
    return Stream.of(
        Arguments.of("mixed", MIXED, 64, MIXED_EVENTS),
        Arguments.of("objects at the limit",
            "{\"a\":12}\n{\"b\":123}\0{\"c\":\"}\"}{\"d\":1234}\n{}", 9,
            List.of(frameEvent("{\"a\":12}"), frameEvent("{\"b\":123}"),
                frameEvent("{\"c\":\"}\"}"), TOO_LARGE)),
        Arguments.of("garbage at the limit", "abcdefghi\n{\"x\":[]}\0abcdefghij\n{}", 9,
            List.of(MALFORMED, frameEvent("{\"x\":[]}"), TOO_LARGE)),
        Arguments.of("broken objects", "{\"a\":\"x\0y\"}\n[1]\n{\"b\":\"p\nq\"}\0{\"ok\":1}", 64,
            List.of(MALFORMED, MALFORMED, MALFORMED, MALFORMED, MALFORMED,
                frameEvent("{\"ok\":1}"))));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("streams")
  void wholeStream(String name, String stream, int max, List<String> expected) {
    assertEquals(expected, new FramingRecorder(max).feed(stream).events);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("streams")
  void everySplitIntoTwoChunks(String name, String stream, int max, List<String> expected) {
    byte[] bytes = utf8(stream);
    FramingRecorder whole = new FramingRecorder(max).feed(bytes);
    for (int cut = 0; cut <= bytes.length; cut++) {
      assertSameOutcome(whole, new FramingRecorder(max).feedSplitAt(bytes, cut), "cut at " + cut);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("streams")
  void everySplitIntoThreeChunks(String name, String stream, int max, List<String> expected) {
    byte[] bytes = utf8(stream);
    FramingRecorder whole = new FramingRecorder(max).feed(bytes);
    int splits = 0;
    for (int first = 0; first <= bytes.length; first++) {
      for (int second = first; second <= bytes.length; second++) {
        FramingRecorder split = new FramingRecorder(max).feedSplitAt(bytes, first, second);
        assertSameOutcome(whole, split, "cuts at " + first + " and " + second);
        splits++;
      }
    }
    assertEquals((bytes.length + 1) * (bytes.length + 2) / 2, splits);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("streams")
  void byteByByte(String name, String stream, int max, List<String> expected) {
    byte[] bytes = utf8(stream);
    FramingRecorder whole = new FramingRecorder(max).feed(bytes);
    assertSameOutcome(whole, new FramingRecorder(max).feedByteByByte(bytes), "byte by byte");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("streams")
  void retainsAtMostTheLimit(String name, String stream, int max, List<String> expected) {
    byte[] bytes = utf8(stream);
    FramingRecorder r = new FramingRecorder(max);
    for (int i = 0; i < bytes.length; i++) {
      r.feed(new byte[] {bytes[i]});
      assertTrue(r.framing.bufferedBytes() <= max, "after byte " + i);
    }
  }

  @Test
  void mixedStreamIsLongEnoughToBeInteresting() {
    assertTrue(utf8(MIXED).length >= 60, "length " + utf8(MIXED).length);
  }

  /** Same events, same terminators seen at each malformed report, same final terminator. */
  private static void assertSameOutcome(FramingRecorder whole, FramingRecorder split, String how) {
    assertEquals(whole.events, split.events, how);
    assertEquals(whole.terminatorAtMalformed, split.terminatorAtMalformed, how);
    assertEquals(whole.framing.lastTerminator(), split.framing.lastTerminator(), how);
  }
}
