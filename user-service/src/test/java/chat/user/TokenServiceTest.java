package chat.user;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

class TokenServiceTest {

  private static final long T0 = 1_800_000_000_000L;

  private final MutableClock clock = new MutableClock(T0);
  private final TokenService tokens =
      new TokenService("cluster secret for tests", Duration.ofSeconds(60), clock);

  @Test
  void tokenIsShortUrlSafeAndCarriesItsClaims() {
    String token = tokens.issue(Integer.MAX_VALUE, Long.MAX_VALUE);
    assertTrue(token.length() <= 64, token);
    assertTrue(token.matches("[A-Za-z0-9_-]+"), token);
    assertEquals(new TokenService.Claims(Integer.MAX_VALUE, Long.MAX_VALUE),
        tokens.verifySignature(token).orElseThrow());
  }

  @Test
  void acceptedForItsUserWithinTtlAfterRevocation() {
    String token = tokens.issue(13, T0);
    assertTrue(tokens.accepts(token, 13, 0));
    assertFalse(tokens.accepts(token, 14, 0), "another user");
    assertFalse(tokens.accepts(token, 13, T0), "revoked in the millisecond it was issued");
    assertTrue(tokens.accepts(token, 13, T0 - 1));
    clock.advance(Duration.ofSeconds(59));
    assertTrue(tokens.accepts(token, 13, 0));
    clock.advance(Duration.ofSeconds(1));
    assertFalse(tokens.accepts(token, 13, 0), "expired");
  }

  /**
   * The keyed MAC each thread reuses starts every signature afresh: the same claims give the
   * same token at every use, on any thread, as a MAC made for that one signature does.
   */
  @Test
  void everyUseSignsAsAFreshMacWouldOnAnyThread() throws Exception {
    Mac fresh = Mac.getInstance("HmacSHA256");
    fresh.init(new SecretKeySpec("cluster secret for tests".getBytes(StandardCharsets.UTF_8),
        "HmacSHA256"));
    fresh.update("chat.resume-token".getBytes(StandardCharsets.US_ASCII));
    ByteBuffer body = ByteBuffer.allocate(13).put((byte) 1).putInt(13).putLong(T0);
    byte[] expected = ByteBuffer.allocate(29).put(body.array())
        .put(fresh.doFinal(body.array()), 0, 16).array();
    String token = Base64.getUrlEncoder().withoutPadding().encodeToString(expected);
    for (int i = 0; i < 3; i++) {
      assertEquals(token, tokens.issue(13, T0), "use " + i);
      assertTrue(tokens.accepts(token, 13, 0), "use " + i);
      assertTrue(tokens.verifySignature(tokens.issue(14, T0 + i)).isPresent());
    }
    String[] elsewhere = new String[1];
    Thread thread = new Thread(() -> elsewhere[0] = tokens.issue(13, T0));
    thread.start();
    thread.join();
    assertEquals(token, elsewhere[0]);
  }

  @Test
  void anotherSecretDoesNotVerify() {
    TokenService other = new TokenService("another secret entirely", Duration.ofSeconds(60), clock);
    assertFalse(other.accepts(tokens.issue(13, T0), 13, 0));
  }

  @Test
  void changingAnyByteBreaksTheSignature() {
    byte[] raw = Base64.getUrlDecoder().decode(tokens.issue(13, T0));
    for (int i = 0; i < raw.length; i++) {
      byte[] forged = raw.clone();
      forged[i] ^= 1;
      String token = Base64.getUrlEncoder().withoutPadding().encodeToString(forged);
      assertTrue(tokens.verifySignature(token).isEmpty(), "byte " + i);
    }
  }

  @Test
  void swappingTheUserIdIsDetected() {
    byte[] raw = Base64.getUrlDecoder().decode(tokens.issue(13, T0));
    raw[4] = 14; // the low byte of the user id
    String forged = Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
    assertFalse(tokens.accepts(forged, 14, 0));
  }

  @Test
  void garbageIsRefused() {
    for (String bad : new String[] {null, "", "a", "!!!!", "x".repeat(65), "AAAA",
        Base64.getUrlEncoder().encodeToString(new byte[29])}) {
      assertTrue(tokens.verifySignature(bad).isEmpty(), String.valueOf(bad));
    }
  }

  @Test
  void issueTimeIsAlwaysAfterTheRevocation() {
    assertEquals(T0, tokens.issueTime(0));
    assertEquals(T0 + 1, tokens.issueTime(T0));
    assertEquals(T0 + 5_001, tokens.issueTime(T0 + 5_000));
  }
}
