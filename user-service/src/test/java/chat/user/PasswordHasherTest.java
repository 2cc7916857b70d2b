package chat.user;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VertxExtension.class)
class PasswordHasherTest {

  @Test
  void hashHasTheDocumentedFormat(Vertx vertx) {
    String hash = new PasswordHasher(vertx, 1_000).hash("pw").await();
    String[] parts = hash.split("\\$");
    assertEquals(4, parts.length, hash);
    assertEquals("pbkdf2-sha256", parts[0]);
    assertEquals("1000", parts[1]);
    assertEquals(16, Base64.getDecoder().decode(parts[2]).length);
    assertEquals(32, Base64.getDecoder().decode(parts[3]).length);
    assertTrue(hash.length() <= 255);
  }

  @Test
  void verifiesOnlyTheRightPassword(Vertx vertx) {
    PasswordHasher hasher = new PasswordHasher(vertx, 1_000);
    String password = "p\u00E4ss \uD83D\uDD11 'w\"\\";
    String hash = hasher.hash(password).await();
    assertTrue(hasher.verify(password, hash).await());
    assertFalse(hasher.verify(password + " ", hash).await());
    assertFalse(hasher.verify("", hash).await());
  }

  @Test
  void saltMakesEveryHashDifferent(Vertx vertx) {
    PasswordHasher hasher = new PasswordHasher(vertx, 1_000);
    assertNotEquals(hasher.hash("same").await(), hasher.hash("same").await());
  }

  @Test
  void hashesOfAnotherCostStillVerify(Vertx vertx) {
    String old = new PasswordHasher(vertx, 2_000).hash("pw").await();
    assertTrue(new PasswordHasher(vertx, 1_000).verify("pw", old).await());
  }

  @Test
  void knownVectorMatches() {
    // PBKDF2-HMAC-SHA256("passwd", "salt", 1 iteration) from RFC 7914 section 11
    byte[] salt = "salt".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    String encoded = PasswordHasher.encode("passwd", salt, 1);
    String expected = Base64.getEncoder().withoutPadding().encodeToString(java.util.HexFormat.of()
        .parseHex("55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"));
    assertEquals(expected, encoded.split("\\$")[3]);
  }

  @Test
  void malformedStoredHashesNeverMatch() {
    for (String bad : new String[] {null, "", "pw", "pbkdf2-sha256$1000$$",
        "pbkdf2-sha256$x$AAAA$AAAA", "md5$1000$AAAA$AAAA", "pbkdf2-sha256$0$AAAA$AAAA",
        "pbkdf2-sha256$999999999$AAAA$AAAA", "pbkdf2-sha256$1000$!!$AAAA"}) {
      assertFalse(PasswordHasher.matches("pw", bad), bad);
    }
  }

  @Test
  void hashingDoesNotBlockTheCaller(Vertx vertx) {
    PasswordHasher costly = new PasswordHasher(vertx, 1_000_000);
    long start = System.nanoTime();
    io.vertx.core.Future<String> hash = costly.hash("pw");
    long callMillis = (System.nanoTime() - start) / 1_000_000;
    assertFalse(hash.isComplete(), "the hash is computed on a worker thread");
    assertTrue(callMillis < 100, "hash() returned after " + callMillis + " ms");
    assertTrue(costly.verify("pw", hash.await()).await());
  }
}
