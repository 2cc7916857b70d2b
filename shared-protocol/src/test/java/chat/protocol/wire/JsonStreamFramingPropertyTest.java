package chat.protocol.wire;

import static chat.protocol.wire.FramingRecorder.MALFORMED;
import static chat.protocol.wire.FramingRecorder.TOO_LARGE;
import static chat.protocol.wire.FramingRecorder.frameEvent;
import static chat.protocol.wire.FramingRecorder.utf8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/** Properties of {@link JsonStreamFraming} over generated streams and chunkings. */
class JsonStreamFramingPropertyTest {

  private static final int MAX = 64 * 1024;

  /** One object on the wire followed by what the client put after it. */
  record Message(JsonObject object, String terminator) {

    byte[] encoded() {
      return utf8(object.encode());
    }
  }

  @Property
  void validObjectsAreFramedInOrderWhateverTheChunking(
      @ForAll("messages") List<Message> messages,
      @ForAll @Size(min = 1, max = 8) List<@IntRange(min = 1, max = 48) Integer> chunkSizes) {
    byte[] stream = concat(messages);

    FramingRecorder r = new FramingRecorder(MAX).feedInChunks(stream, chunkSizes);

    assertEquals(messages.size(), r.events.size(), () -> "events " + r.events);
    for (int k = 0; k < messages.size(); k++) {
      Message m = messages.get(k);
      assertArrayEquals(m.encoded(), r.frames.get(k).getBytes(), "frame " + k);
      assertEquals(m.object(), new JsonObject(r.frames.get(k)), "frame " + k);
    }
    assertEquals(lastTerminatorIn(stream, (byte) '\n'), r.framing.lastTerminator());
  }

  @Property
  void repliesFromOnFrameSeeTheTerminatorThatFollowsTheObject(
      @ForAll("messages") List<Message> messages) {
    FramingRecorder r = new FramingRecorder(MAX).feed(concat(messages));

    byte expected = '\n';
    for (int k = 0; k < messages.size(); k++) {
      String terminator = messages.get(k).terminator();
      if (!terminator.isEmpty() && isTerminator(terminator.charAt(0))) {
        expected = (byte) terminator.charAt(0);
      }
      assertEquals(expected, r.terminatorAtFrame.get(k), "frame " + k);
      expected = lastTerminatorIn(utf8(terminator), expected);
    }
  }

  @Property
  void anyInputAndChunkingGivesTheEventsOfTheReferenceRules(
      @ForAll("noisyStreams") byte[] stream,
      @ForAll @IntRange(min = 1, max = 48) int max,
      @ForAll @Size(min = 1, max = 8) List<@IntRange(min = 1, max = 32) Integer> chunkSizes) {
    FramingRecorder r = new FramingRecorder(max);
    int from = 0;
    for (int k = 0; from < stream.length; k++) {
      int to = Math.min(stream.length, from + chunkSizes.get(k % chunkSizes.size()));
      r.feed(Arrays.copyOfRange(stream, from, to));
      assertTrue(r.framing.bufferedBytes() <= max, "retained " + r.framing.bufferedBytes());
      from = to;
    }

    assertEquals(ReferenceRules.events(stream, max), r.events);
    assertEquals(r.events.indexOf(TOO_LARGE) < 0 ? -1 : r.events.size() - 1,
        r.events.indexOf(TOO_LARGE), "nothing after too-large");
  }

  // --- generators ---------------------------------------------------------------------------

  @Provide
  Arbitrary<List<Message>> messages() {
    Arbitrary<String> terminators =
        Arbitraries.of("", "\n", "\0", "\r\n", " \n", "\0\0", "\t", "\n\n");
    return Combinators.combine(jsonObject(3), terminators).as(Message::new).list().ofMaxSize(12);
  }

  /** Bytes that are interesting to the scanner, mixed with whole valid objects. */
  @Provide
  Arbitrary<byte[]> noisyStreams() {
    Arbitrary<byte[]> single = Arbitraries.of(
        "{", "}", "[", "]", "\"", "\\", "\n", "\0", " ", "\r", "a", "1", ":", ",", "中")
        .map(FramingRecorder::utf8);
    Arbitrary<byte[]> object = jsonObject(2).map(o -> utf8(o.encode()));
    return Arbitraries.frequencyOf(Tuple.of(6, single), Tuple.of(1, object))
        .list().ofMaxSize(40)
        .map(JsonStreamFramingPropertyTest::concatBytes);
  }

  private Arbitrary<JsonObject> jsonObject(int depth) {
    return Combinators.combine(strings(), value(depth)).as(Tuple::of).list().ofMaxSize(4)
        .map(entries -> {
          JsonObject o = new JsonObject();
          entries.forEach(e -> o.put(e.get1(), e.get2()));
          return o;
        });
  }

  private Arbitrary<JsonArray> jsonArray(int depth) {
    return value(depth).list().ofMaxSize(4).map(JsonArray::new);
  }

  private Arbitrary<Object> value(int depth) {
    Arbitrary<Object> leaf = Arbitraries.oneOf(
        strings().map(Object.class::cast),
        Arbitraries.integers().between(-1_000_000, 1_000_000).map(Object.class::cast),
        Arbitraries.of(Boolean.TRUE, Boolean.FALSE).map(Object.class::cast))
        .injectNull(0.05);
    if (depth == 0) {
      return leaf;
    }
    return Arbitraries.frequencyOf(
        Tuple.of(4, leaf),
        Tuple.of(1, jsonObject(depth - 1).map(Object.class::cast)),
        Tuple.of(1, jsonArray(depth - 1).map(Object.class::cast)));
  }

  /** Strings built from tokens the scanner must not be confused by, plus multibyte text. */
  private Arbitrary<String> strings() {
    Arbitrary<String> tokens = Arbitraries.oneOf(
        Arbitraries.strings().withCharRange('a', 'z').ofMinLength(1).ofMaxLength(5),
        Arbitraries.of("{", "}", "[", "]", "\"", "\\", "\\\"", "\"}", "\\\\", ":", ",", " ",
            "\n", "\0", "\t", "\r", "\u001f", "é", "中文", "字", "日本語", "😀", "🚀", "👨‍👩‍👧",
            "\u2028", "\uffff"));
    return tokens.list().ofMaxSize(6).map(list -> String.join("", list));
  }

  // --- helpers ------------------------------------------------------------------------------

  private static byte[] concat(List<Message> messages) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (Message m : messages) {
      out.writeBytes(m.encoded());
      out.writeBytes(utf8(m.terminator()));
    }
    return out.toByteArray();
  }

  private static byte[] concatBytes(List<byte[]> pieces) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    pieces.forEach(out::writeBytes);
    return out.toByteArray();
  }

  /** The last LF or NUL in {@code bytes}, or {@code otherwise}. */
  private static byte lastTerminatorIn(byte[] bytes, byte otherwise) {
    for (int i = bytes.length - 1; i >= 0; i--) {
      if (isTerminator((char) bytes[i])) {
        return bytes[i];
      }
    }
    return otherwise;
  }

  private static boolean isTerminator(char c) {
    return c == '\n' || c == '\0';
  }

  /**
   * The framing rules applied to a whole stream at once, written as directly as possible: the
   * oracle that the incremental scanner must agree with for every chunking.
   */
  static final class ReferenceRules {

    /**
     * How a pending frame starting at some index ends.
     *
     * @param end index after the object, or of the terminator discarding it, or -1 if the input
     *     ends first
     * @param complete whether it is a whole object (otherwise it is garbage)
     */
    private record Scan(int end, boolean complete) {
    }

    static List<String> events(byte[] s, int max) {
      List<String> events = new ArrayList<>();
      int i = 0;
      while (i < s.length) {
        byte b = s[i];
        if (b == ' ' || b == '\t' || b == '\r' || isTerminator((char) b)) {
          i++;
          continue;
        }
        Scan scan = b == '{' ? scanObject(s, i) : scanGarbage(s, i);
        int length = (scan.end() < 0 ? s.length : scan.end()) - i;
        if (length > max) {
          events.add(TOO_LARGE);
          return events;
        }
        if (scan.end() < 0) {
          return events; // incomplete at the end of the input: nothing reported yet
        }
        if (scan.complete()) {
          events.add(frameEvent(Arrays.copyOfRange(s, i, scan.end())));
          i = scan.end();
        } else {
          events.add(MALFORMED);
          i = scan.end() + 1;
        }
      }
      return events;
    }

    private static Scan scanObject(byte[] s, int start) {
      int depth = 0;
      boolean inString = false;
      for (int j = start; j < s.length; j++) {
        byte c = s[j];
        if (isTerminator((char) c)) {
          return new Scan(j, false);
        }
        if (inString) {
          if (c == '\\') {
            j++; // skip the escaped byte, unless it is a terminator
            if (j < s.length && isTerminator((char) s[j])) {
              return new Scan(j, false);
            }
          } else if (c == '"') {
            inString = false;
          }
        } else if (c == '"') {
          inString = true;
        } else if (c == '{' || c == '[') {
          depth++;
        } else if ((c == '}' || c == ']') && --depth == 0) {
          return new Scan(j + 1, true);
        }
      }
      return new Scan(-1, false);
    }

    private static Scan scanGarbage(byte[] s, int start) {
      for (int j = start; j < s.length; j++) {
        if (isTerminator((char) s[j])) {
          return new Scan(j, false);
        }
      }
      return new Scan(-1, false);
    }
  }
}
