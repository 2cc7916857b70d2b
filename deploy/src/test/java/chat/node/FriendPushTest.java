package chat.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import chat.node.TestDatabase.FreshDatabase;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** ADD_FRIEND tells both sides at once (FRIEND 111 with name and state), across nodes. */
@ExtendWith(TestDatabase.Extension.class)
@Timeout(90)
class FriendPushTest {

  private static TestNodes nodes;
  private static ChatNode first;
  private static ChatNode second;

  @BeforeAll
  static void start(FreshDatabase database) {
    nodes = new TestNodes(database.url());
    first = nodes.start();
    second = nodes.start();
  }

  @AfterAll
  static void stop() {
    nodes.close();
  }

  @Test
  void bothSidesAreToldWithNamesAndStatesBeforeTheAck() {
    try (TcpTestClient adder = TcpTestClient.lines(first.tcpPort());
         WsTestClient added = WsTestClient.connect(second.httpPort())) {
      String adderName = TestNodes.unique("adder");
      String addedName = TestNodes.unique("added");
      int adderId = adder.register(adderName, "pw");
      int addedId = added.register(addedName, "pw");
      adder.loginOk(adderId, "pw");
      added.loginOk(addedId, "pw");

      adder.send(new JsonObject().put("msgid", 7).put("friendid", addedId).put("seq", "f1"));
      JsonObject ack = adder.expect(105);
      assertEquals("f1", ack.getString("seq"));
      assertEquals(0, ack.getInteger("errno"));
      JsonObject toAdder = only(adder.all(), 111);
      assertEquals(addedId, toAdder.getInteger("id"));
      assertEquals(addedName, toAdder.getString("name"));
      assertEquals("online", toAdder.getString("state"));
      assertTrue(adder.all().indexOf(toAdder) < adder.all().indexOf(ack),
          "FRIEND came after the ACK: " + adder.all());

      JsonObject toAdded = added.expect(111);
      assertEquals(adderId, toAdded.getInteger("id"));
      assertEquals(adderName, toAdded.getString("name"));
      assertEquals("online", toAdded.getString("state"));
      // The versions of those states, as PRESENCE and the LOGIN ack carry them.
      assertTrue(toAdder.getLong("v", 0L) > 0, toAdder.encode());
      assertTrue(toAdded.getLong("v", 0L) > 0, toAdded.encode());
    }
  }

  @Test
  void aFriendWhoIsOfflineIsShownOfflineAndFindsTheFriendshipAtLogin() {
    try (TcpTestClient adder = TcpTestClient.classic(second.tcpPort());
         TcpTestClient later = TcpTestClient.classic(first.tcpPort())) {
      String adderName = TestNodes.unique("adder");
      String laterName = TestNodes.unique("later");
      int adderId = adder.register(adderName, "pw");
      int laterId = later.register(laterName, "pw");
      adder.loginOk(adderId, "pw");

      adder.send(new JsonObject().put("msgid", 7).put("friendid", laterId));
      JsonObject toAdder = adder.expect(111);
      assertEquals(laterId, toAdder.getInteger("id"));
      assertEquals(laterName, toAdder.getString("name"));
      assertEquals("offline", toAdder.getString("state"));

      JsonObject login = later.loginOk(laterId, "pw");
      assertTrue(login.getJsonArray("friends").encode().contains(adderName), login.encode());
      // Adding again changes nothing and is acknowledged like the first time.
      adder.send(new JsonObject().put("msgid", 7).put("friendid", laterId).put("seq", 2));
      assertEquals(0, adder.expect(105).getInteger("errno"));
      List<JsonObject> pushes = adder.all().stream().filter(m -> m.getInteger("msgid") == 111).toList();
      assertEquals(2, pushes.size(), adder.all().toString());
      assertEquals("online", pushes.get(1).getString("state"));
      assertTrue(pushes.get(1).getLong("v", 0L) > pushes.get(0).getLong("v", 0L),
          "the later state has the higher version: " + pushes);
    }
  }

  private static JsonObject only(List<JsonObject> messages, int msgid) {
    List<JsonObject> found = messages.stream().filter(m -> m.getInteger("msgid") == msgid).toList();
    assertEquals(1, found.size(), "expected one msgid " + msgid + " in " + messages);
    return found.get(0);
  }
}
