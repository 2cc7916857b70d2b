package chat.gateway.session;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.Json;
import java.nio.charset.StandardCharsets;

/**
 * Recognises a PING from the bytes of its frame, without parsing it as JSON: an idle node
 * receives one PING per session every heartbeat interval, and parsing each into a JSON object
 * (and encoding its PONG from one) was most of what such a node allocated.
 *
 * <p>Only the compact shapes clients send are recognised: <code>{"msgid":100}</code> and
 * <code>{"msgid":100,"seq":S}</code>, where S is a non-negative integer of at most 18 digits
 * written as JSON writes it (no leading zero) or a string of at most 64 letters, digits and
 * {@code _ - . :} characters (nothing to escape). For those the seq's text is the same once
 * parsed and encoded again, so echoing it verbatim is what the parsed path writes. Any other
 * frame, a PING written otherwise included, is not recognised here and takes the parsed path.
 */
public final class PingFrame {

  /** The result for a PING without seq. */
  public static final String NO_SEQ = "";

  private static final byte[] HEAD = "{\"msgid\":100".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] SEQ = ",\"seq\":".getBytes(StandardCharsets.US_ASCII);
  private static final int MAX_DIGITS = 18;
  private static final int MAX_STRING = 64;

  private PingFrame() {
  }

  /**
   * The seq of a recognised PING as JSON text ({@link #NO_SEQ} when it has none), or null
   * when the frame is not one of the shapes recognised.
   */
  public static String seqOf(Buffer frame) {
    int length = frame.length();
    if (length < HEAD.length + 1 || !startsWith(frame, 0, HEAD)) {
      return null;
    }
    if (frame.getByte(length - 1) != '}') {
      return null;
    }
    if (length == HEAD.length + 1) {
      return NO_SEQ;
    }
    int from = HEAD.length + SEQ.length;
    int to = length - 1;
    if (to <= from || !startsWith(frame, HEAD.length, SEQ)) {
      return null;
    }
    boolean valid = frame.getByte(from) == '"' ? isPlainString(frame, from, to)
        : isCanonicalNumber(frame, from, to);
    return valid ? frame.getString(from, to, "US-ASCII") : null;
  }

  /** The seq value of a recognised PING's seq text, as the parsed path would hold it. */
  public static Object seqValue(String seqJson) {
    return seqJson == null || seqJson.isEmpty() ? null : Json.decodeValue(seqJson);
  }

  private static boolean startsWith(Buffer frame, int at, byte[] bytes) {
    for (int i = 0; i < bytes.length; i++) {
      if (frame.getByte(at + i) != bytes[i]) {
        return false;
      }
    }
    return true;
  }

  private static boolean isCanonicalNumber(Buffer frame, int from, int to) {
    int digits = to - from;
    if (digits > MAX_DIGITS || (digits > 1 && frame.getByte(from) == '0')) {
      return false;
    }
    for (int i = from; i < to; i++) {
      byte b = frame.getByte(i);
      if (b < '0' || b > '9') {
        return false;
      }
    }
    return true;
  }

  private static boolean isPlainString(Buffer frame, int from, int to) {
    int chars = to - from - 2;
    if (chars < 0 || chars > MAX_STRING || frame.getByte(to - 1) != '"') {
      return false;
    }
    for (int i = from + 1; i < to - 1; i++) {
      byte b = frame.getByte(i);
      boolean plain = (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9')
          || b == '_' || b == '-' || b == '.' || b == ':';
      if (!plain) {
        return false;
      }
    }
    return true;
  }
}
