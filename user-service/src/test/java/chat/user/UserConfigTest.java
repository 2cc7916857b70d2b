package chat.user;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import chat.protocol.config.DbUrl;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import org.junit.jupiter.api.Test;

class UserConfigTest {

  private static final String URL = "mysql://chat:s3cret@db.example:3307/chat";

  @Test
  void defaults() {
    UserConfig config = UserConfig.from(new JsonObject().put("dbUrl", URL));
    assertEquals(new UserConfig(URL, 8, 120_000, 86_400, null), config);
  }

  @Test
  void everyValueCanBeSet() {
    UserConfig config = UserConfig.from(new JsonObject().put("dbUrl", URL).put("poolSize", 3)
        .put("passwordIterations", 1000).put("tokenTtlSeconds", 60)
        .put("tokenSecret", "0123456789abcdef"));
    assertEquals(new UserConfig(URL, 3, 1000, 60, "0123456789abcdef"), config);
  }

  @Test
  void fromEnvironmentVariables() {
    JsonObject json = UserConfig.jsonFromEnv(Map.of(
        "CHAT_DB_URL", URL, "CHAT_DB_POOL_SIZE", "16", "CHAT_PASSWORD_ITERATIONS", "200000",
        "CHAT_TOKEN_TTL_S", "3600", "CHAT_TOKEN_SECRET", "", "UNRELATED", "x"));
    assertEquals(new UserConfig(URL, 16, 200_000, 3600, null), UserConfig.from(json));
  }

  @Test
  void messageStoreAndPasswordSettingsFromEnvironment() {
    JsonObject json = UserConfig.jsonFromEnv(Map.of(
        "CHAT_DB_URL", URL, "CHAT_OFFLINE_MAX", "500", "CHAT_HISTORY_DAYS", "0",
        "CHAT_PASSWORD_THREADS", "3", "CHAT_PASSWORD_QUEUE", "7",
        "CHAT_PASSWORD_MIN_LENGTH", "8"));
    UserConfig config = UserConfig.from(json);
    assertEquals(500, config.offlineMax());
    assertEquals(0, config.historyDays());
    assertEquals(3, config.passwordThreads());
    assertEquals(7, config.passwordQueue());
    assertEquals(8, config.passwordMinLength());
    UserConfig defaults = UserConfig.from(new JsonObject().put("dbUrl", URL));
    assertEquals(10_000, defaults.offlineMax());
    assertEquals(30, defaults.historyDays());
    assertEquals(64, defaults.passwordQueue());
    assertEquals(2, defaults.passwordMinLength());
    assertEquals(Runtime.getRuntime().availableProcessors(), defaults.passwordThreads());
  }

  @Test
  void invalidValuesAreRefused() {
    JsonObject base = new JsonObject().put("dbUrl", URL);
    for (JsonObject bad : new JsonObject[] {
        new JsonObject(),
        new JsonObject().put("dbUrl", "localhost:3306"),
        base.copy().put("poolSize", 0),
        base.copy().put("poolSize", "many"),
        base.copy().put("poolSize", 1.5),
        base.copy().put("passwordIterations", 10),
        base.copy().put("passwordIterations", 5_000_000_000L),
        base.copy().put("tokenTtlSeconds", 0),
        base.copy().put("tokenSecret", "short"),
        base.copy().put("tokenSecret", 42),
        base.copy().put("offlineMax", 0),
        base.copy().put("historyDays", -1),
        base.copy().put("passwordThreads", 0),
        base.copy().put("passwordQueue", -1),
        base.copy().put("passwordMinLength", 0),
        base.copy().put("passwordMinLength", 129)}) {
      assertThrows(IllegalArgumentException.class, () -> UserConfig.from(bad), bad::encode);
    }
  }

  @Test
  void blankSecretMeansClusterSecret() {
    assertNull(new UserConfig(URL, 1, 1000, 1, "   ").tokenSecret());
  }

  @Test
  void toStringHidesSecrets() {
    String text = new UserConfig(URL, 1, 1000, 1, "a-very-secret-token-key").toString();
    assertFalse(text.contains("s3cret"), text);
    assertFalse(text.contains("a-very-secret"), text);
  }

  @Test
  void dbUrlParsesAndRoundTrips() {
    DbUrl url = DbUrl.parse("mysql://us%40er:p%3Aa%2Fss+w@127.0.0.1:3310/chat_db");
    assertEquals(new DbUrl("us@er", "p:a/ss+w", "127.0.0.1", 3310, "chat_db"), url);
    assertEquals(url, DbUrl.parse(url.toUriString()));
    assertEquals("jdbc:mariadb://127.0.0.1:3310/chat_db", url.jdbcUrl());
    assertEquals(new DbUrl("u", "", "h", 3306, ""), DbUrl.parse("mysql://u@h"));
    assertEquals("mysql://us@er:***@127.0.0.1:3310/chat_db", url.toString());
  }
}
