package chat.protocol.wire;

import static chat.protocol.wire.FramingRecorder.MALFORMED;
import static chat.protocol.wire.FramingRecorder.TOO_LARGE;
import static chat.protocol.wire.FramingRecorder.frameEvent;
import static chat.protocol.wire.FramingRecorder.utf8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class JsonStreamFramingTest {

  private static final int MAX = 1024;

  private static FramingRecorder recorder() {
    return new FramingRecorder(MAX);
  }

  @Nested
  class Framing {

    @Test
    void objectEndedByNewline() {
      FramingRecorder r = recorder().feed("{\"msgid\":100}\n");
      assertEquals(List.of(frameEvent("{\"msgid\":100}")), r.events);
    }

    @Test
    void objectEndedByNul() {
      FramingRecorder r = recorder().feed("{\"msgid\":100}\0");
      assertEquals(List.of(frameEvent("{\"msgid\":100}")), r.events);
    }

    @Test
    void objectWithoutTerminatorIsFramedAtItsClosingBrace() {
      FramingRecorder r = recorder().feed("{\"msgid\":100}");
      assertEquals(List.of(frameEvent("{\"msgid\":100}")), r.events);
    }

    @Test
    void backToBackObjectsInOneChunk() {
      FramingRecorder r = recorder().feed("{\"a\":1}{\"b\":2}{}{\"c\":[3]}");
      assertEquals(List.of("{\"a\":1}", "{\"b\":2}", "{}", "{\"c\":[3]}"), r.frameTexts());
    }

    @Test
    void whitespaceAndCrLfBetweenObjectsAreSkipped() {
      FramingRecorder r = recorder().feed(" \t\r\n{\"a\":1}\r\n\r\n  {\"b\":2}\0\0\t{\"c\":3}\n\n");
      assertEquals(List.of("{\"a\":1}", "{\"b\":2}", "{\"c\":3}"), r.frameTexts());
      assertEquals(List.of(frameEvent("{\"a\":1}"), frameEvent("{\"b\":2}"),
          frameEvent("{\"c\":3}")), r.events);
    }

    @Test
    void whitespaceInsideAnObjectBelongsToTheFrame() {
      String json = "{ \"a\" :\t[ 1 ,\r 2 ] , \"b\" : { } }";
      FramingRecorder r = recorder().feed(json + "\n");
      assertEquals(List.of(json), r.frameTexts());
      assertEquals(new JsonObject().put("a", List.of(1, 2)).put("b", new JsonObject()),
          new JsonObject(r.frames.get(0)));
    }

    @Test
    void nestedObjectsAndArrays() {
      String json = "{\"a\":{\"b\":[{\"c\":[[],[{}]]},{}]},\"d\":[1,[2,[3]]]}";
      FramingRecorder r = recorder().feed(json + json);
      assertEquals(List.of(json, json), r.frameTexts());
    }

    @Test
    void bracesQuotesAndBackslashesInsideStringsDoNotCount() {
      String json = "{\"a\":\"}{][\",\"b\":\"say \\\"}\\\" ok\",\"c\":\"\\\\\",\"d\":\"\\\\\\\"{\"}";
      FramingRecorder r = recorder().feed(json + "\n{\"e\":1}\n");
      assertEquals(List.of(json, "{\"e\":1}"), r.frameTexts());
      JsonObject parsed = new JsonObject(r.frames.get(0));
      assertEquals("}{][", parsed.getString("a"));
      assertEquals("say \"}\" ok", parsed.getString("b"));
      assertEquals("\\", parsed.getString("c"));
      assertEquals("\\\"{", parsed.getString("d"));
    }

    @Test
    void escapedUnicodeAndControlCharactersInStrings() {
      String json = "{\"a\":\"\\u007b\\n\\u0000\\t\\/\"}";
      FramingRecorder r = recorder().feed(json + "\0");
      assertEquals(List.of(json), r.frameTexts());
      assertEquals("{\n\0\t/", new JsonObject(r.frames.get(0)).getString("a"));
    }

    @Test
    void multibyteUtf8PassesThrough() {
      String json = "{\"text\":\"héllo 中文字 😀🚀 ✓\",\"名前\":\"值\"}";
      FramingRecorder r = recorder().feed(json + "\n" + json);
      assertEquals(List.of(json, json), r.frameTexts());
      assertEquals("héllo 中文字 😀🚀 ✓", new JsonObject(r.frames.get(1)).getString("text"));
    }

    @Test
    void objectSplitAcrossChunksIsReassembled() {
      FramingRecorder r = recorder()
          .feed("{\"msg\":\"hel").feed("lo\",\"n\"").feed(":[1,").feed("2]}\n");
      assertEquals(List.of("{\"msg\":\"hello\",\"n\":[1,2]}"), r.frameTexts());
    }

    @Test
    void splitInsideMultibyteCharacters() {
      byte[] bytes = utf8("{\"t\":\"😀中\"}");
      // The emoji occupies bytes 6..9 and the CJK character bytes 10..12.
      FramingRecorder r = recorder().feedSplitAt(bytes, 7, 8, 9, 11);
      assertEquals(List.of("{\"t\":\"😀中\"}"), r.frameTexts());
    }

    @Test
    void emptyChunksAreHarmless() {
      FramingRecorder r = recorder().feed(new byte[0]).feed("{\"a\"").feed(new byte[0]).feed(":1}");
      assertEquals(List.of("{\"a\":1}"), r.frameTexts());
    }

    @Test
    void frameIsACopyTheCallerMayKeep() {
      FramingRecorder r = recorder();
      Buffer chunk = Buffer.buffer("{\"a\":1}\n{\"b\":2}\n");
      r.framing.handle(chunk);
      for (int i = 0; i < chunk.length(); i++) {
        chunk.setByte(i, (byte) 'x');
      }
      assertEquals(List.of("{\"a\":1}", "{\"b\":2}"), r.frameTexts());
    }

    @Test
    void frameAssembledFromSeveralChunksIsACopyToo() {
      FramingRecorder r = recorder();
      Buffer head = Buffer.buffer("{\"a\":");
      Buffer tail = Buffer.buffer("1}");
      r.framing.handle(head);
      r.framing.handle(tail);
      head.setByte(0, (byte) 'x');
      tail.setByte(0, (byte) 'x');
      assertEquals(List.of("{\"a\":1}"), r.frameTexts());
    }

    @Test
    void invalidUtf8InsideAStringIsFramedAndLeftToTheParser() {
      byte[] json = Buffer.buffer("{\"a\":\"")
          .appendBytes(new byte[] {(byte) 0xC3, 0x28, (byte) 0xFF, (byte) 0xFE})
          .appendString("\"}").getBytes();
      FramingRecorder r = recorder().feed(Buffer.buffer(json).appendString("\n").getBytes());
      assertEquals(1, r.frames.size());
      assertArrayEquals(json, r.frames.get(0).getBytes());
      assertThrows(DecodeException.class, () -> new JsonObject(r.frames.get(0)));
    }

    @Test
    void mismatchedBracketsAreFramedAndLeftToTheParser() {
      FramingRecorder r = recorder().feed("{\"a\":1]\n");
      assertEquals(List.of("{\"a\":1]"), r.frameTexts());
      assertThrows(DecodeException.class, () -> new JsonObject(r.frames.get(0)));
    }
  }

  @Nested
  class TerminatorTracking {

    @Test
    void initiallyNewline() {
      assertEquals((byte) '\n', recorder().framing.lastTerminator());
    }

    @Test
    void nulAfterAnObjectIsSeenFromInsideOnFrame() {
      FramingRecorder r = recorder().feed("{\"msgid\":100}\0");
      assertEquals(List.of((byte) 0), r.terminatorAtFrame);
      assertEquals(0, r.framing.lastTerminator());
    }

    @Test
    void newlineAfterAnObjectIsSeenFromInsideOnFrame() {
      FramingRecorder r = recorder().feed("{}\0").feed("{}\n");
      assertEquals(List.of((byte) 0, (byte) '\n'), r.terminatorAtFrame);
    }

    @Test
    void mixedTerminatorsInOneChunk() {
      FramingRecorder r = recorder().feed("{\"a\":1}\0{\"b\":2}\n{\"c\":3}\0{\"d\":4}");
      assertEquals(List.of((byte) 0, (byte) '\n', (byte) 0, (byte) 0), r.terminatorAtFrame);
      assertEquals(0, r.framing.lastTerminator());
    }

    @Test
    void objectWithoutTerminatorKeepsThePreviousOne() {
      FramingRecorder r = recorder().feed("{}\0{}{}");
      assertEquals(List.of((byte) 0, (byte) 0, (byte) 0), r.terminatorAtFrame);
    }

    @Test
    void terminatorArrivingInTheNextChunkIsRecordedWhenItArrives() {
      FramingRecorder r = recorder().feed("{}\0{\"a\":1}");
      assertEquals(List.of((byte) 0, (byte) 0), r.terminatorAtFrame);
      r.feed("\n");
      assertEquals('\n', r.framing.lastTerminator());
    }

    @Test
    void crLfEndsWithNewline() {
      FramingRecorder r = recorder().feed("{}\0{}\r\n");
      assertEquals('\n', r.framing.lastTerminator());
    }

    @Test
    void terminatorOnlyChunksAreTracked() {
      FramingRecorder r = recorder().feed("\0");
      assertEquals(0, r.framing.lastTerminator());
      r.feed(" \t\r\n ");
      assertEquals('\n', r.framing.lastTerminator());
    }

    @Test
    void terminatorEndingGarbageIsTracked() {
      FramingRecorder r = recorder().feed("hello\0");
      assertEquals(List.of((byte) 0), r.terminatorAtMalformed);
      r.feed("{\"a\":\n");
      assertEquals(List.of((byte) 0, (byte) '\n'), r.terminatorAtMalformed);
    }

    @Test
    void terminatorInsideAStringLiteralIsNotTracked() {
      FramingRecorder r = recorder().feed("{}\0{\"a\":\"\\n\\u0000\"}");
      assertEquals(0, r.framing.lastTerminator());
    }
  }

  @Nested
  class Malformed {

    @Test
    void garbageLineThenValidObject() {
      FramingRecorder r = recorder().feed("hello\n{\"msgid\":100}\n");
      assertEquals(List.of(MALFORMED, frameEvent("{\"msgid\":100}")), r.events);
    }

    @Test
    void unfinishedObjectThenNewlineThenValidObject() {
      FramingRecorder r = recorder().feed("{\"msgid\":\n{\"msgid\":100}\n");
      assertEquals(List.of(MALFORMED, frameEvent("{\"msgid\":100}")), r.events);
    }

    @Test
    void unfinishedObjectSpanningChunksIsDiscarded() {
      FramingRecorder r = recorder().feed("{\"msgid\":").feed("[1,").feed("\n{\"msgid\":100}\n");
      assertEquals(List.of(MALFORMED, frameEvent("{\"msgid\":100}")), r.events);
      assertEquals(0, r.framing.bufferedBytes());
    }

    @Test
    void nulInsideAStringBreaksTheObject() {
      // The NUL ends the broken object; the rest of that line is garbage up to its newline.
      FramingRecorder r = recorder().feed("{\"a\":\"x\0y\"}\n{\"b\":1}\n");
      assertEquals(List.of(MALFORMED, MALFORMED, frameEvent("{\"b\":1}")), r.events);
      assertEquals(List.of((byte) 0, (byte) '\n'), r.terminatorAtMalformed);
    }

    @Test
    void rawNewlineInsideAStringBreaksTheObject() {
      FramingRecorder r = recorder().feed("{\"a\":\"line1\nline2\"}\n{\"ok\":true}\n");
      assertEquals(List.of(MALFORMED, MALFORMED, frameEvent("{\"ok\":true}")), r.events);
    }

    @Test
    void topLevelArray() {
      FramingRecorder r = recorder().feed("[1,2]\n{\"a\":1}\n");
      assertEquals(List.of(MALFORMED, frameEvent("{\"a\":1}")), r.events);
    }

    @Test
    void topLevelNumberEndedByNul() {
      FramingRecorder r = recorder().feed("123\0");
      assertEquals(List.of(MALFORMED), r.events);
      assertEquals(0, r.framing.lastTerminator());
    }

    @Test
    void garbageIsReportedOncePerTerminator() {
      FramingRecorder r = recorder().feed("not json at all { } [ ]\n");
      assertEquals(List.of(MALFORMED), r.events);
    }

    @Test
    void garbageSpanningChunksIsReportedOnceItsTerminatorArrives() {
      FramingRecorder r = recorder().feed("hel").feed("lo ");
      assertEquals(List.of(), r.events);
      r.feed("world\n{}");
      assertEquals(List.of(MALFORMED, frameEvent("{}")), r.events);
    }

    @Test
    void garbageAfterAnObjectOnTheSameLine() {
      FramingRecorder r = recorder().feed("{\"a\":1}}\n{\"b\":2} x {\"c\":3}\n{\"d\":4}");
      assertEquals(List.of(frameEvent("{\"a\":1}"), MALFORMED, frameEvent("{\"b\":2}"), MALFORMED,
          frameEvent("{\"d\":4}")), r.events);
    }

    @Test
    void eachBrokenLineIsReported() {
      FramingRecorder r = recorder().feed("x\ny\0{\n{}\n");
      assertEquals(List.of(MALFORMED, MALFORMED, MALFORMED, frameEvent("{}")), r.events);
    }
  }

  @Nested
  class SizeLimit {

    /** An object of exactly {@code size} bytes (size >= 8). */
    private String objectOfSize(int size) {
      String json = "{\"a\":\"" + "x".repeat(size - 8) + "\"}";
      assertEquals(size, utf8(json).length);
      return json;
    }

    @Test
    void objectOfExactlyMaxBytesIsFramed() {
      String json = objectOfSize(MAX);
      FramingRecorder r = recorder().feed(json + "\n");
      assertEquals(List.of(frameEvent(json)), r.events);
    }

    @Test
    void objectOfMaxPlusOneBytesIsTooLarge() {
      FramingRecorder r = recorder().feed(objectOfSize(MAX + 1) + "\n{}\n");
      assertEquals(List.of(TOO_LARGE), r.events);
    }

    @Test
    void multibyteCharactersCountAsBytes() {
      String json = "{\"a\":\"" + "中".repeat(10) + "\"}"; // 8 + 30 bytes
      assertEquals(List.of(frameEvent(json)), new FramingRecorder(38).feed(json).events);
      assertEquals(List.of(TOO_LARGE), new FramingRecorder(37).feed(json).events);
    }

    @Test
    void garbageOfExactlyMaxBytesIsMalformed() {
      FramingRecorder r = recorder().feed("g".repeat(MAX) + "\n{}");
      assertEquals(List.of(MALFORMED, frameEvent("{}")), r.events);
    }

    @Test
    void garbageOfMaxPlusOneBytesIsTooLarge() {
      FramingRecorder r = recorder().feed("g".repeat(MAX + 1) + "\n{}");
      assertEquals(List.of(TOO_LARGE), r.events);
    }

    @Test
    void tooLargeFiresWithoutTerminator() {
      FramingRecorder r = recorder().feed("{\"a\":\"" + "x".repeat(MAX));
      assertEquals(List.of(TOO_LARGE), r.events);
      assertEquals(0, r.framing.bufferedBytes());
    }

    @Test
    void tooLargeFiresOnTheFirstByteOverTheLimit() {
      byte[] bytes = utf8(objectOfSize(MAX + 1));
      FramingRecorder r = recorder();
      r.framing.handle(Buffer.buffer().appendBytes(bytes, 0, MAX));
      assertEquals(List.of(), r.events, "nothing up to byte max");
      assertEquals(MAX, r.framing.bufferedBytes());
      r.framing.handle(Buffer.buffer().appendBytes(bytes, MAX, 1));
      assertEquals(List.of(TOO_LARGE), r.events);
    }

    @Test
    void limitCountsAcrossOneByteChunks() {
      FramingRecorder r = recorder().feedByteByByte(utf8(objectOfSize(MAX + 1)));
      assertEquals(List.of(TOO_LARGE), r.events);
      FramingRecorder ok = recorder().feedByteByByte(utf8(objectOfSize(MAX) + "\0"));
      assertEquals(List.of(frameEvent(objectOfSize(MAX))), ok.events);
    }

    @Test
    void nothingIsReportedAfterTooLarge() {
      FramingRecorder r = recorder().feed("{\"a\":\"" + "x".repeat(2 * MAX));
      r.feed("\"}\n{\"b\":1}\n").feed("garbage\n").feed("{\"c\":1}\0").feed("x".repeat(3 * MAX));
      assertEquals(List.of(TOO_LARGE), r.events);
      assertEquals('\n', r.framing.lastTerminator(), "input after the limit is ignored");
    }

    @Test
    void whitespaceBetweenObjectsDoesNotCount() {
      String blanks = " \r\n\t\0".repeat(MAX);
      FramingRecorder r = recorder().feed("{}" + blanks + "{}" + blanks);
      assertEquals(List.of(frameEvent("{}"), frameEvent("{}")), r.events);
    }

    @Test
    void eachObjectIsLimitedOnItsOwn() {
      String json = objectOfSize(MAX);
      FramingRecorder r = recorder().feed(json + json + "\n" + json + "\0" + json);
      assertEquals(4, r.frames.size());
      assertTrue(r.events.stream().allMatch(e -> e.equals(frameEvent(json))));
    }

    @Test
    void oneMebibyteObjectIn64KibChunksIsStoppedEarly() {
      assertStoppedEarly("{\"a\":\"", 'x');
    }

    @Test
    void oneMebibyteOfGarbageIn64KibChunksIsStoppedEarly() {
      assertStoppedEarly("", 'g');
    }

    /** Feeds 1 MiB without terminator in 64 KiB chunks against a 100 000-byte limit. */
    private void assertStoppedEarly(String prefix, char filler) {
      int max = 100_000;
      int chunkSize = 64 * 1024;
      byte[] input = new byte[1024 * 1024];
      Arrays.fill(input, (byte) filler);
      System.arraycopy(utf8(prefix), 0, input, 0, prefix.length());
      FramingRecorder r = new FramingRecorder(max);
      for (int from = 0; from < input.length; from += chunkSize) {
        r.framing.handle(Buffer.buffer().appendBytes(input, from, chunkSize));
        assertTrue(r.framing.bufferedBytes() <= max, "retained " + r.framing.bufferedBytes());
        boolean limitReached = from + chunkSize > max;
        assertEquals(limitReached ? List.of(TOO_LARGE) : List.of(), r.events, "after " + from);
      }
      assertEquals(0, r.framing.bufferedBytes());
    }

    @Test
    @Timeout(value = 20, unit = TimeUnit.SECONDS)
    void scanningByteByByteIsLinear() {
      // 400 000 one-byte chunks: rescanning the pending frame per chunk would take ~10^11 steps.
      int size = 400_000;
      String json = "{\"a\":[" + "{\"b\":\"}\"},".repeat((size - 20) / 10) + "1]}";
      byte[] bytes = utf8(json + "\n");
      FramingRecorder r = new FramingRecorder(size).feedByteByByte(bytes);
      assertEquals(List.of(json), r.frameTexts());
    }
  }

  @Nested
  class Construction {

    @Test
    void rejectsNonPositiveLimit() {
      FramingRecorder listener = new FramingRecorder(1);
      assertThrows(IllegalArgumentException.class, () -> new JsonStreamFraming(0, listener));
    }

    @Test
    void rejectsNullListener() {
      assertThrows(NullPointerException.class, () -> new JsonStreamFraming(10, null));
    }

    @Test
    void smallestLimitFramesTheSmallestObject() {
      FramingRecorder r = new FramingRecorder(2).feed("{}\n{}{}\0{ }");
      assertEquals(List.of(frameEvent("{}"), frameEvent("{}"), frameEvent("{}"), TOO_LARGE),
          r.events);
    }
  }
}
