package chat.user;

import chat.protocol.bus.user.Register;
import chat.protocol.config.DbUrl;
import io.vertx.core.json.JsonObject;
import java.util.Map;

/**
 * Configuration of the user service.
 *
 * @param dbUrl              {@code mysql://user:pass@host:port/db}
 * @param poolSize           connections in the pool of each verticle instance
 * @param passwordIterations PBKDF2 cost used for new password hashes
 * @param tokenTtlSeconds    how long a resume token stays valid
 * @param tokenSecret        the HMAC key of resume tokens; {@code null}: a cluster-wide secret
 *                           is generated once and kept in the database
 * @param offlineMax         how many pending (stored, unacknowledged) messages a user may have
 * @param historyDays        how many days messages stay in history; 0 keeps none
 * @param passwordThreads    threads of the node's password-hashing executor
 * @param passwordQueue      password requests that may wait for a thread; more are refused
 *                           OVERLOADED at once
 * @param passwordMinLength  the shortest password a registration accepts (characters)
 */
public record UserConfig(
    String dbUrl, int poolSize, int passwordIterations, long tokenTtlSeconds, String tokenSecret,
    int offlineMax, int historyDays, int passwordThreads, int passwordQueue,
    int passwordMinLength) {

  public static final int DEFAULT_POOL_SIZE = 8;
  public static final int DEFAULT_PASSWORD_ITERATIONS = 120_000;
  public static final long DEFAULT_TOKEN_TTL_SECONDS = 86_400;
  public static final int DEFAULT_OFFLINE_MAX = 10_000;
  public static final int DEFAULT_HISTORY_DAYS = 30;
  public static final int DEFAULT_PASSWORD_THREADS = Runtime.getRuntime().availableProcessors();
  public static final int DEFAULT_PASSWORD_QUEUE = 64;
  /** Two keeps the classic examples ({@code "pw"}) working; operators raise it. */
  public static final int DEFAULT_PASSWORD_MIN_LENGTH = 2;

  public static final int MAX_POOL_SIZE = 256;
  public static final int MIN_PASSWORD_ITERATIONS = 1_000;
  public static final int MAX_PASSWORD_ITERATIONS = 10_000_000;
  public static final long MAX_TOKEN_TTL_SECONDS = 366L * 86_400;
  public static final int MIN_TOKEN_SECRET_LENGTH = 16;
  public static final int MAX_OFFLINE_MAX = 1_000_000;
  public static final int MAX_HISTORY_DAYS = 36_500;
  public static final int MAX_PASSWORD_THREADS = 256;
  public static final int MAX_PASSWORD_QUEUE = 100_000;
  /** The longest password a registration accepts, so the minimum cannot exceed it. */
  public static final int MAX_PASSWORD_LENGTH = Register.MAX_PASSWORD_LENGTH;

  /** Validates every field; a blank secret counts as none. */
  public UserConfig {
    DbUrl.parse(dbUrl);
    if (poolSize < 1 || poolSize > MAX_POOL_SIZE) {
      throw new IllegalArgumentException("poolSize must be within 1.." + MAX_POOL_SIZE);
    }
    if (passwordIterations < MIN_PASSWORD_ITERATIONS
        || passwordIterations > MAX_PASSWORD_ITERATIONS) {
      throw new IllegalArgumentException("passwordIterations must be within "
          + MIN_PASSWORD_ITERATIONS + ".." + MAX_PASSWORD_ITERATIONS);
    }
    if (tokenTtlSeconds < 1 || tokenTtlSeconds > MAX_TOKEN_TTL_SECONDS) {
      throw new IllegalArgumentException(
          "tokenTtlSeconds must be within 1.." + MAX_TOKEN_TTL_SECONDS);
    }
    if (tokenSecret != null && tokenSecret.isBlank()) {
      tokenSecret = null;
    }
    if (tokenSecret != null && tokenSecret.length() < MIN_TOKEN_SECRET_LENGTH) {
      throw new IllegalArgumentException(
          "tokenSecret must have at least " + MIN_TOKEN_SECRET_LENGTH + " characters");
    }
    within("offlineMax", offlineMax, 1, MAX_OFFLINE_MAX);
    within("historyDays", historyDays, 0, MAX_HISTORY_DAYS);
    within("passwordThreads", passwordThreads, 1, MAX_PASSWORD_THREADS);
    within("passwordQueue", passwordQueue, 0, MAX_PASSWORD_QUEUE);
    within("passwordMinLength", passwordMinLength, 1, MAX_PASSWORD_LENGTH);
  }

  /** The first five settings as given, every other one at its default. */
  public UserConfig(String dbUrl, int poolSize, int passwordIterations, long tokenTtlSeconds,
      String tokenSecret) {
    this(dbUrl, poolSize, passwordIterations, tokenTtlSeconds, tokenSecret, DEFAULT_OFFLINE_MAX,
        DEFAULT_HISTORY_DAYS, DEFAULT_PASSWORD_THREADS, DEFAULT_PASSWORD_QUEUE,
        DEFAULT_PASSWORD_MIN_LENGTH);
  }

  /** A configuration with every default and the given database. */
  public static UserConfig of(String dbUrl) {
    return new UserConfig(dbUrl, DEFAULT_POOL_SIZE, DEFAULT_PASSWORD_ITERATIONS,
        DEFAULT_TOKEN_TTL_SECONDS, null);
  }

  public UserConfig withOfflineMax(int max) {
    return new UserConfig(dbUrl, poolSize, passwordIterations, tokenTtlSeconds, tokenSecret, max,
        historyDays, passwordThreads, passwordQueue, passwordMinLength);
  }

  public UserConfig withHistoryDays(int days) {
    return new UserConfig(dbUrl, poolSize, passwordIterations, tokenTtlSeconds, tokenSecret,
        offlineMax, days, passwordThreads, passwordQueue, passwordMinLength);
  }

  public UserConfig withPasswordExecutor(int threads, int queue) {
    return new UserConfig(dbUrl, poolSize, passwordIterations, tokenTtlSeconds, tokenSecret,
        offlineMax, historyDays, threads, queue, passwordMinLength);
  }

  public UserConfig withPasswordMinLength(int length) {
    return new UserConfig(dbUrl, poolSize, passwordIterations, tokenTtlSeconds, tokenSecret,
        offlineMax, historyDays, passwordThreads, passwordQueue, length);
  }

  private static void within(String name, int value, int min, int max) {
    if (value < min || value > max) {
      throw new IllegalArgumentException(name + " must be within " + min + ".." + max);
    }
  }

  /**
   * Reads {@code dbUrl} (required), {@code poolSize}, {@code passwordIterations},
   * {@code tokenTtlSeconds}, {@code tokenSecret}, {@code offlineMax}, {@code historyDays},
   * {@code passwordThreads}, {@code passwordQueue} and {@code passwordMinLength}. Numbers may
   * also be given as decimal
   * strings, as they come from environment variables.
   *
   * @throws IllegalArgumentException when a value is missing, of the wrong type or out of range
   */
  public static UserConfig from(JsonObject json) {
    Object url = json.getValue("dbUrl");
    if (!(url instanceof String s) || s.isBlank()) {
      throw new IllegalArgumentException("dbUrl is required");
    }
    Object secret = json.getValue("tokenSecret");
    if (secret != null && !(secret instanceof String)) {
      throw new IllegalArgumentException("tokenSecret must be a string");
    }
    return new UserConfig(
        (String) url,
        intNumber(json, "poolSize", DEFAULT_POOL_SIZE),
        intNumber(json, "passwordIterations", DEFAULT_PASSWORD_ITERATIONS),
        number(json, "tokenTtlSeconds", DEFAULT_TOKEN_TTL_SECONDS),
        (String) secret,
        intNumber(json, "offlineMax", DEFAULT_OFFLINE_MAX),
        intNumber(json, "historyDays", DEFAULT_HISTORY_DAYS),
        intNumber(json, "passwordThreads", DEFAULT_PASSWORD_THREADS),
        intNumber(json, "passwordQueue", DEFAULT_PASSWORD_QUEUE),
        intNumber(json, "passwordMinLength", DEFAULT_PASSWORD_MIN_LENGTH));
  }

  /**
   * Maps the environment variables {@code CHAT_DB_URL}, {@code CHAT_DB_POOL_SIZE},
   * {@code CHAT_PASSWORD_ITERATIONS}, {@code CHAT_TOKEN_TTL_S}, {@code CHAT_TOKEN_SECRET},
   * {@code CHAT_OFFLINE_MAX}, {@code CHAT_HISTORY_DAYS}, {@code CHAT_PASSWORD_THREADS},
   * {@code CHAT_PASSWORD_QUEUE} and {@code CHAT_PASSWORD_MIN_LENGTH} onto the keys
   * {@link #from(JsonObject)} reads. Unset variables are left out.
   */
  public static JsonObject jsonFromEnv(Map<String, String> env) {
    JsonObject json = new JsonObject();
    copy(env, "CHAT_DB_URL", json, "dbUrl");
    copy(env, "CHAT_DB_POOL_SIZE", json, "poolSize");
    copy(env, "CHAT_PASSWORD_ITERATIONS", json, "passwordIterations");
    copy(env, "CHAT_TOKEN_TTL_S", json, "tokenTtlSeconds");
    copy(env, "CHAT_TOKEN_SECRET", json, "tokenSecret");
    copy(env, "CHAT_OFFLINE_MAX", json, "offlineMax");
    copy(env, "CHAT_HISTORY_DAYS", json, "historyDays");
    copy(env, "CHAT_PASSWORD_THREADS", json, "passwordThreads");
    copy(env, "CHAT_PASSWORD_QUEUE", json, "passwordQueue");
    copy(env, "CHAT_PASSWORD_MIN_LENGTH", json, "passwordMinLength");
    return json;
  }

  private static void copy(Map<String, String> env, String var, JsonObject json, String key) {
    String value = env.get(var);
    if (value != null && !value.isBlank()) {
      json.put(key, value.trim());
    }
  }

  private static int intNumber(JsonObject json, String key, int dflt) {
    long value = number(json, key, dflt);
    if (value < Integer.MIN_VALUE || value > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(key + " is out of range");
    }
    return (int) value;
  }

  private static long number(JsonObject json, String key, long dflt) {
    Object value = json.getValue(key);
    if (value == null) {
      return dflt;
    }
    if (value instanceof Integer || value instanceof Long) {
      return ((Number) value).longValue();
    }
    if (value instanceof String s) {
      try {
        return Long.parseLong(s.trim());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(key + " must be an integer");
      }
    }
    throw new IllegalArgumentException(key + " must be an integer");
  }

  /** Hides the secret and the database password. */
  @Override
  public String toString() {
    return "UserConfig[dbUrl=" + DbUrl.parse(dbUrl) + ", poolSize=" + poolSize
        + ", passwordIterations=" + passwordIterations + ", tokenTtlSeconds=" + tokenTtlSeconds
        + ", tokenSecret=" + (tokenSecret == null ? "(cluster)" : "***")
        + ", offlineMax=" + offlineMax + ", historyDays=" + historyDays
        + ", passwordThreads=" + passwordThreads + ", passwordQueue=" + passwordQueue
        + ", passwordMinLength=" + passwordMinLength + "]";
  }
}
