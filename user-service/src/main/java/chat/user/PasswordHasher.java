package chat.user;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.concurrent.Callable;
import java.util.concurrent.Executor;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;

/**
 * Salted PBKDF2-HMAC-SHA256 password hashes, encoded as
 * {@code pbkdf2-sha256$<iterations>$<salt base64>$<hash base64>} (standard base64, no padding).
 * The cost is stored with each hash, so raising it later leaves old hashes valid. Hashing and
 * verification run on the executor given (the node's password threads) or, without one, on a
 * Vert.x worker thread; never on the event loop.
 */
public final class PasswordHasher {

  static final String SCHEME = "pbkdf2-sha256";
  private static final String ALGORITHM = "PBKDF2WithHmacSHA256";
  private static final int SALT_BYTES = 16;
  private static final int HASH_BYTES = 32;
  /** Stored hashes claiming a higher cost are refused rather than run. */
  private static final int MAX_VERIFY_ITERATIONS = UserConfig.MAX_PASSWORD_ITERATIONS;

  private static final Base64.Encoder B64 = Base64.getEncoder().withoutPadding();
  private static final Base64.Decoder B64D = Base64.getDecoder();

  private final Vertx vertx;
  private final int iterations;
  private final Executor executor;
  private final SecureRandom random = new SecureRandom();

  /** Hashing on Vert.x worker threads. */
  public PasswordHasher(Vertx vertx, int iterations) {
    this(vertx, iterations, null);
  }

  /** Hashing on {@code executor}; results come back on the caller's Vert.x context. */
  public PasswordHasher(Vertx vertx, int iterations, Executor executor) {
    if (iterations < 1) {
      throw new IllegalArgumentException("iterations must be positive");
    }
    this.vertx = vertx;
    this.iterations = iterations;
    this.executor = executor;
  }

  /** A fresh salted hash of the password. */
  public Future<String> hash(String password) {
    byte[] salt = new byte[SALT_BYTES];
    random.nextBytes(salt);
    return run(() -> encode(password, salt, iterations));
  }

  /** Whether the password matches the stored hash; a malformed hash never matches. */
  public Future<Boolean> verify(String password, String stored) {
    return run(() -> matches(password, stored));
  }

  private <T> Future<T> run(Callable<T> work) {
    if (executor == null) {
      return vertx.executeBlocking(work, false);
    }
    Context context = vertx.getOrCreateContext();
    Promise<T> promise = Promise.promise();
    executor.execute(() -> {
      T result;
      try {
        result = work.call();
      } catch (Throwable e) {
        context.runOnContext(v -> promise.fail(e));
        return;
      }
      context.runOnContext(v -> promise.complete(result));
    });
    return promise.future();
  }

  static String encode(String password, byte[] salt, int iterations) {
    byte[] hash = derive(password, salt, iterations, HASH_BYTES);
    return SCHEME + "$" + iterations + "$" + B64.encodeToString(salt) + "$"
        + B64.encodeToString(hash);
  }

  static boolean matches(String password, String stored) {
    if (stored == null) {
      return false;
    }
    String[] parts = stored.split("\\$", -1);
    if (parts.length != 4 || !SCHEME.equals(parts[0])) {
      return false;
    }
    int storedIterations;
    byte[] salt;
    byte[] expected;
    try {
      storedIterations = Integer.parseInt(parts[1]);
      salt = B64D.decode(parts[2]);
      expected = B64D.decode(parts[3]);
    } catch (IllegalArgumentException e) {
      return false;
    }
    if (storedIterations < 1 || storedIterations > MAX_VERIFY_ITERATIONS
        || salt.length == 0 || expected.length == 0) {
      return false;
    }
    byte[] actual = derive(password, salt, storedIterations, expected.length);
    return MessageDigest.isEqual(actual, expected);
  }

  private static byte[] derive(String password, byte[] salt, int iterations, int length) {
    char[] chars = password.toCharArray();
    PBEKeySpec spec = new PBEKeySpec(chars, salt, iterations, length * 8);
    try {
      return SecretKeyFactory.getInstance(ALGORITHM).generateSecret(spec).getEncoded();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(ALGORITHM + " is not available", e);
    } finally {
      spec.clearPassword();
      Arrays.fill(chars, '\0');
    }
  }
}
