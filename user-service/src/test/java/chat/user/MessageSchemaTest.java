package chat.user;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import chat.protocol.config.DbUrl;
import chat.user.repo.SchemaMigration;
import io.vertx.core.json.JsonObject;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Schema V2 on a database that holds classic offline messages: they become pending mailbox
 * rows in their order, under msgnos "legacy-&lt;no&gt;", and the old table goes.
 */
class MessageSchemaTest {

  @RegisterExtension
  static final TestDatabase DB = new TestDatabase();

  static int alice;
  static int bob;

  @BeforeAll
  static void legacyDataThenV2() throws Exception {
    DbUrl url = DbUrl.parse(DB.url());
    Flyway.configure(SchemaMigration.class.getClassLoader())
        .dataSource(url.withDatabase("").jdbcUrl(), url.user(), url.password())
        .schemas(url.database()).createSchemas(true)
        .locations("classpath:db/migration").target("1")
        .load().migrate();
    DB.update("INSERT INTO `user` (name, password) VALUES ('alice', 'x'), ('bob', 'x')");
    alice = ((Number) DB.queryValue("SELECT id FROM `user` WHERE name = 'alice'")).intValue();
    bob = ((Number) DB.queryValue("SELECT id FROM `user` WHERE name = 'bob'")).intValue();
    DB.update("INSERT INTO offlinemessage (userid, message) VALUES (?, ?), (?, ?), (?, ?)",
        bob, chat(alice, bob, "first \uD83D\uDE00").encode(),
        alice, new JsonObject().put("msgid", 10).put("id", bob).put("groupid", 7)
            .put("msg", "group").encode(),
        bob, chat(alice, bob, "second").put("msgno", "old-number").encode());
    SchemaMigration.migrate(DB.url());
  }

  private static JsonObject chat(int from, int to, String text) {
    return new JsonObject().put("msgid", 6).put("id", from).put("name", "alice").put("toid", to)
        .put("msg", text).put("time", "2026-11-22 18:00:00");
  }

  @Test
  void legacyMessagesArePendingInOrderWithTheirConversation() throws Exception {
    assertEquals(3L, ((Number) DB.queryValue(
        "SELECT COUNT(*) FROM mailbox WHERE pending = 1")).longValue());
    String bobs = "SELECT m.%s FROM mailbox b JOIN message m ON m.id = b.message_id"
        + " WHERE b.userid = ? ORDER BY m.id LIMIT 1 OFFSET ?";
    JsonObject first = new JsonObject((String) DB.queryValue(bobs.formatted("body"), bob, 0));
    JsonObject second = new JsonObject((String) DB.queryValue(bobs.formatted("body"), bob, 1));
    assertEquals("first \uD83D\uDE00", first.getString("msg"));
    assertEquals("second", second.getString("msg"));
    assertEquals(DB.queryValue(bobs.formatted("msgno"), bob, 0), first.getString("msgno"));
    assertEquals(DB.queryValue(bobs.formatted("msgno"), bob, 1), second.getString("msgno"));
    assertEquals(true, second.getString("msgno").startsWith("legacy-"));
    String conv = "u:" + Math.min(alice, bob) + ":" + Math.max(alice, bob);
    assertEquals(conv, DB.queryValue(bobs.formatted("conv"), bob, 0));
    assertEquals("g:7", DB.queryValue(
        "SELECT m.conv FROM mailbox b JOIN message m ON m.id = b.message_id WHERE b.userid = ?",
        alice));
  }

  @Test
  void theClassicTableIsGoneAndTheIndexesAreThere() throws Exception {
    assertNull(DB.queryValue("SELECT TABLE_NAME FROM information_schema.TABLES"
        + " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'offlinemessage'"));
    String index = "SELECT GROUP_CONCAT(COLUMN_NAME ORDER BY SEQ_IN_INDEX)"
        + " FROM information_schema.STATISTICS"
        + " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND INDEX_NAME = ?";
    assertEquals("conv,id", DB.queryValue(index, "message", "idx_message_conv_id"));
    // V4: retention walks the primary key; no index on created_at for every chat to pay for
    assertNull(DB.queryValue(index, "message", "idx_message_created_at"));
    assertEquals("msgno", DB.queryValue(index, "message", "uk_message_msgno"));
    assertEquals("userid,pending,message_id",
        DB.queryValue(index, "mailbox", "idx_mailbox_user_pending"));
  }
}
