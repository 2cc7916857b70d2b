package chat.protocol.wire;

import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Records what a {@link JsonStreamFraming} reports, as readable events, and feeds it input in
 * chunks.
 */
final class FramingRecorder implements JsonStreamFraming.Listener {

  static final String MALFORMED = "malformed";
  static final String TOO_LARGE = "too-large";

  /**
   * Events in order: {@code frame:<bytes as ISO-8859-1>}, {@link #MALFORMED} or
   * {@link #TOO_LARGE}.
   */
  final List<String> events = new ArrayList<>();
  /** The frames, as handed over. */
  final List<Buffer> frames = new ArrayList<>();
  /** {@link JsonStreamFraming#lastTerminator()} as seen from inside each {@code onFrame}. */
  final List<Byte> terminatorAtFrame = new ArrayList<>();
  /** {@link JsonStreamFraming#lastTerminator()} as seen from inside each {@code onMalformed}. */
  final List<Byte> terminatorAtMalformed = new ArrayList<>();

  final JsonStreamFraming framing;

  FramingRecorder(int maxFrameBytes) {
    this.framing = new JsonStreamFraming(maxFrameBytes, this);
  }

  @Override
  public void onFrame(Buffer json) {
    frames.add(json);
    terminatorAtFrame.add(framing.lastTerminator());
    events.add(frameEvent(json.getBytes()));
  }

  @Override
  public void onMalformed(String reason) {
    terminatorAtMalformed.add(framing.lastTerminator());
    events.add(MALFORMED);
  }

  @Override
  public void onTooLarge() {
    events.add(TOO_LARGE);
  }

  /** Feeds {@code bytes} whole, as one chunk. */
  FramingRecorder feed(byte[] bytes) {
    framing.handle(Buffer.buffer(bytes));
    return this;
  }

  FramingRecorder feed(String utf8) {
    return feed(utf8.getBytes(StandardCharsets.UTF_8));
  }

  /** Feeds {@code bytes} split at the given ascending offsets. */
  FramingRecorder feedSplitAt(byte[] bytes, int... cuts) {
    int from = 0;
    for (int cut : cuts) {
      feedRange(bytes, from, cut);
      from = cut;
    }
    feedRange(bytes, from, bytes.length);
    return this;
  }

  /** Feeds {@code bytes} in chunks of the given sizes, used cyclically. */
  FramingRecorder feedInChunks(byte[] bytes, List<Integer> chunkSizes) {
    int from = 0;
    for (int k = 0; from < bytes.length; k++) {
      int to = Math.min(bytes.length, from + chunkSizes.get(k % chunkSizes.size()));
      feedRange(bytes, from, to);
      from = to;
    }
    return this;
  }

  FramingRecorder feedByteByByte(byte[] bytes) {
    for (int i = 0; i < bytes.length; i++) {
      feedRange(bytes, i, i + 1);
    }
    return this;
  }

  private void feedRange(byte[] bytes, int from, int to) {
    framing.handle(Buffer.buffer().appendBytes(bytes, from, to - from));
  }

  List<String> frameTexts() {
    return frames.stream().map(f -> f.toString(StandardCharsets.UTF_8)).toList();
  }

  static String frameEvent(String utf8) {
    return frameEvent(utf8.getBytes(StandardCharsets.UTF_8));
  }

  static String frameEvent(byte[] bytes) {
    return "frame:" + new String(bytes, StandardCharsets.ISO_8859_1);
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
