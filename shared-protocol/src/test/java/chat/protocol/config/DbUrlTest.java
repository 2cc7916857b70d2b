package chat.protocol.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

/**
 * CHAT_DB_URL as every service reads it. The passwords here are the ones the services used to
 * read differently (user-service with its own parser, presence with the MySQL client's URI
 * parser, which refused a raw {@code +} or a second {@code :} and so stopped presence from
 * starting with a URL user-service took).
 */
class DbUrlTest {

  private static String password(String url) {
    return DbUrl.parse(url).password();
  }

  @Test
  void percentEncodedSpecialCharactersAreDecoded() {
    assertEquals("p@ss:w/o%rd", password("mysql://u:p%40ss%3Aw%2Fo%25rd@h:3306/db"));
    assertEquals("p q", password("mysql://u:p%20q@h/db"));
    assertEquals("pé", password("mysql://u:p%C3%A9@h/db"));
    assertEquals("us@er", DbUrl.parse("mysql://us%40er:x@h/db").user());
  }

  @Test
  void aPlusIsAPlusAndALaterColonBelongsToThePassword() {
    assertEquals("a+b", password("mysql://u:a+b@h/db"));
    assertEquals("p:q", password("mysql://u:p:q@h/db"));
    assertEquals("!$&'()*,;=~", password("mysql://u:!$&'()*,;=~@h/db"));
  }

  @Test
  void anEmptyOrMissingPasswordIsTheEmptyPassword() {
    assertEquals("", password("mysql://u:@h/db"));
    assertEquals("", password("mysql://u@h/db"));
    assertEquals(new DbUrl("", "", "h", 3306, ""), DbUrl.parse("mysql://h"));
  }

  @Test
  void hostPortDatabaseAndScheme() {
    assertEquals(new DbUrl("u", "p", "db.example", 3310, "chat"),
        DbUrl.parse("mariadb://u:p@db.example:3310/chat?useSSL=false"));
    assertEquals(new DbUrl("u", "p", "::1", 3306, "chat"), DbUrl.parse("mysql://u:p@[::1]/chat"));
  }

  @Test
  void writtenBackItReadsTheSame() {
    for (String url : new String[] {"mysql://u:p%40ss%3Aw%2Fo%25rd@h:3306/db",
        "mysql://u:a+b@h/db", "mysql://u:@h/db", "mysql://u:p%C3%A9@[::1]:3307/chat"}) {
      DbUrl parsed = DbUrl.parse(url);
      assertEquals(parsed, DbUrl.parse(parsed.toUriString()), url);
    }
  }

  @Test
  void malformedUrlsAreRefusedWithoutRepeatingThem() {
    for (String bad : new String[] {"postgres://u:secret@h/db", "mysql://u:secret@/db",
        "mysql://u:secret@h:99999/db", "u:secret@h/db", ""}) {
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> DbUrl.parse(bad), bad);
      assertFalse(e.getMessage().contains("secret"), e.getMessage());
    }
    assertThrows(IllegalArgumentException.class, () -> DbUrl.parse(null));
  }

  @Test
  void connectOptionsCarryTheDecodedFields() {
    JsonObject options = DbUrl.parse("mysql://u:a+b%40c@h:3307/chat").connectOptions();
    assertEquals(new JsonObject().put("host", "h").put("port", 3307).put("user", "u")
        .put("password", "a+b@c").put("charset", "utf8mb4").put("database", "chat"), options);
    assertFalse(DbUrl.parse("mysql://u:p@h").connectOptions().containsKey("database"));
  }

  @Test
  void theTextFormHidesThePassword() {
    assertFalse(DbUrl.parse("mysql://u:secret@h/db").toString().contains("secret"));
  }
}
