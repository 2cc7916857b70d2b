package chat.user;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.Optional;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Resume tokens: {@code base64url(version, userId, issuedAtMillis, HMAC-SHA256(secret) truncated
 * to 128 bits)}, 39 URL-safe characters. A token is accepted only for the user it names, before
 * {@code issuedAt + ttl}, and only when it was issued after the user's {@code tokens_revoked_at}.
 * Every node of the cluster signs with the same secret, so a token issued by one node is
 * accepted by all.
 */
public final class TokenService {

  /** Tokens longer than this are refused before any decoding. */
  public static final int MAX_TOKEN_LENGTH = 64;

  private static final byte VERSION = 1;
  private static final int BODY_BYTES = 1 + 4 + 8;
  private static final int MAC_BYTES = 16;
  private static final String MAC_ALGORITHM = "HmacSHA256";
  private static final byte[] CONTEXT = "chat.resume-token".getBytes(StandardCharsets.US_ASCII);

  private static final Base64.Encoder ENCODER = Base64.getUrlEncoder().withoutPadding();
  private static final Base64.Decoder DECODER = Base64.getUrlDecoder();

  /** What a validly signed token says. */
  public record Claims(int userId, long issuedAtMillis) {
  }

  private final SecretKeySpec key;
  private final long ttlMillis;
  private final Clock clock;
  /**
   * One keyed MAC per thread, made once: looking the algorithm up and keying it cost more
   * than the signature itself, twice per token login. {@code doFinal} leaves it ready for
   * the next use with the same key.
   */
  private final ThreadLocal<Mac> macs = ThreadLocal.withInitial(this::newMac);

  public TokenService(byte[] secret, Duration ttl, Clock clock) {
    if (secret.length == 0) {
      throw new IllegalArgumentException("empty token secret");
    }
    this.key = new SecretKeySpec(secret, MAC_ALGORITHM);
    this.ttlMillis = ttl.toMillis();
    this.clock = clock;
  }

  public TokenService(String secret, Duration ttl, Clock clock) {
    this(secret.getBytes(StandardCharsets.UTF_8), ttl, clock);
  }

  /**
   * The issue time for a new token of a user whose tokens were revoked at
   * {@code tokensRevokedAt}: now, but always after the revocation, so a login right after a
   * logout (or on a node whose clock lags) still gets a usable token.
   */
  public long issueTime(long tokensRevokedAt) {
    return Math.max(clock.millis(), tokensRevokedAt + 1);
  }

  /** The current time in milliseconds, from the same clock the tokens use. */
  public long now() {
    return clock.millis();
  }

  public String issue(int userId, long issuedAtMillis) {
    ByteBuffer buf = ByteBuffer.allocate(BODY_BYTES + MAC_BYTES);
    buf.put(VERSION).putInt(userId).putLong(issuedAtMillis);
    buf.put(mac(buf.array(), BODY_BYTES), 0, MAC_BYTES);
    return ENCODER.encodeToString(buf.array());
  }

  /** The claims of a token whose signature checks out, regardless of expiry or revocation. */
  public Optional<Claims> verifySignature(String token) {
    if (token == null || token.isEmpty() || token.length() > MAX_TOKEN_LENGTH) {
      return Optional.empty();
    }
    byte[] raw;
    try {
      raw = DECODER.decode(token);
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
    if (raw.length != BODY_BYTES + MAC_BYTES || raw[0] != VERSION) {
      return Optional.empty();
    }
    byte[] expected = Arrays.copyOf(mac(raw, BODY_BYTES), MAC_BYTES);
    byte[] actual = Arrays.copyOfRange(raw, BODY_BYTES, BODY_BYTES + MAC_BYTES);
    if (!MessageDigest.isEqual(expected, actual)) {
      return Optional.empty();
    }
    ByteBuffer buf = ByteBuffer.wrap(raw, 1, BODY_BYTES - 1);
    return Optional.of(new Claims(buf.getInt(), buf.getLong()));
  }

  /**
   * Whether the token lets {@code userId} log in now, given that user's
   * {@code tokens_revoked_at}.
   */
  public boolean accepts(String token, int userId, long tokensRevokedAt) {
    return verifySignature(token)
        .filter(c -> c.userId() == userId)
        .filter(c -> c.issuedAtMillis() > tokensRevokedAt)
        .filter(c -> clock.millis() < c.issuedAtMillis() + ttlMillis)
        .isPresent();
  }

  private byte[] mac(byte[] data, int length) {
    Mac mac = macs.get();
    mac.update(CONTEXT);
    mac.update(data, 0, length);
    return mac.doFinal();
  }

  private Mac newMac() {
    try {
      Mac mac = Mac.getInstance(MAC_ALGORITHM);
      mac.init(key);
      return mac;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(MAC_ALGORITHM + " is not available", e);
    }
  }
}
