package chat.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import chat.node.TestDatabase.FreshDatabase;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** Two clustered nodes in one JVM: users on different nodes chat, log in twice, befriend. */
@ExtendWith(TestDatabase.Extension.class)
@Timeout(90)
class TwoNodeTest {

  private static TestNodes nodes;
  private static ChatNode first;
  private static ChatNode second;
  private static Db db;

  @BeforeAll
  static void start(FreshDatabase database) {
    db = new Db(database.url());
    nodes = new TestNodes(database.url());
    first = nodes.start();
    second = nodes.start();
  }

  @AfterAll
  static void stop() {
    nodes.close();
  }


  @Test
  void tcpUserOnOneNodeAndWebSocketUserOnTheOtherChatBothWaysOnce() {
    try (TcpTestClient tcp = TcpTestClient.classic(first.tcpPort());
         WsTestClient ws = WsTestClient.connect(second.httpPort())) {
      int tcpId = tcp.register(TestNodes.unique("tcp"), "pw");
      int wsId = ws.register(TestNodes.unique("ws"), "pw");
      tcp.loginOk(tcpId, "pw");
      ws.loginOk(wsId, "pw");
      for (int i = 0; i < 20; i++) {
        tcp.chat(wsId, "to ws " + i);
        ws.chat(tcpId, "to tcp " + i);
      }
      List<String> toWs = new ArrayList<>();
      List<String> toTcp = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        toWs.add("to ws " + i);
        toTcp.add("to tcp " + i);
      }
      // both sides' whole sequences at once, so that a failure shows every message each got
      // (an ERROR answering a chat included)
      List<String> gotWs = chatsReceived(ws, 20);
      List<String> gotTcp = chatsReceived(tcp, 20);
      Supplier<String> everything = () -> "ws received " + ws.all() + "; tcp received " + tcp.all();
      assertEquals(toWs, gotWs, everything);
      assertEquals(toTcp, gotTcp, everything);
      ws.expectSilence(Duration.ofMillis(300));
      tcp.expectSilence(Duration.ofMillis(10));
    }
  }

  /** The texts of the next {@code n} chats the client receives, in order. */
  private static List<String> chatsReceived(TestClient client, int n) {
    List<String> texts = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      texts.add(client.expect(6).getString("msg"));
    }
    return texts;
  }

  @Test
  void aSecondLoginOnAnotherNodeKicksTheFirstWithoutAnOfflineBlip() {
    try (TcpTestClient friend = TcpTestClient.classic(second.tcpPort());
         TcpTestClient old = TcpTestClient.classic(first.tcpPort());
         TcpTestClient fresh = TcpTestClient.lines(second.tcpPort())) {
      int friendId = friend.register(TestNodes.unique("friend"), "pw");
      int id = old.register(TestNodes.unique("dave"), "pw");
      old.loginOk(id, "pw");
      old.send(new JsonObject().put("msgid", 7).put("friendid", friendId).put("seq", 1));
      assertEquals(0, old.expect(105).getInteger("errno"));
      friend.loginOk(friendId, "pw");

      JsonObject ack = fresh.loginOk(id, "pw");
      assertEquals(id, ack.getInteger("id"));
      JsonObject kicked = old.expect(102);
      assertEquals("login_elsewhere", kicked.getString("reason"));
      assertTrue(old.awaitClosed(Duration.ofSeconds(5)), "kicked connection was not closed");
      // KICKED reached the old socket before the new login was acknowledged.
      assertEquals("online", db.state(id));
      friend.expectSilence(Duration.ofMillis(1500));
      assertEquals("online", db.state(id));

      friend.chat(id, "which one?");
      assertEquals("which one?", fresh.expect(6).getString("msg"));
    }
  }

  @Test
  void friendsAreToldWhenAUserGoesOnlineAndOfflineAcrossNodes() {
    try (TcpTestClient watcher = TcpTestClient.classic(first.tcpPort());
         TcpTestClient mover = TcpTestClient.classic(second.tcpPort())) {
      int watcherId = watcher.register(TestNodes.unique("watcher"), "pw");
      int moverId = mover.register(TestNodes.unique("mover"), "pw");
      watcher.loginOk(watcherId, "pw");
      watcher.send(new JsonObject().put("msgid", 7).put("friendid", moverId));
      mover.loginOk(moverId, "pw");
      JsonObject online = watcher.expect(103);
      assertEquals(moverId, online.getInteger("id"));
      assertEquals("online", online.getString("state"));
      mover.abort();
      JsonObject offline = watcher.expect(103);
      assertEquals("offline", offline.getString("state"));
      Eventually.within(Duration.ofSeconds(1), () -> assertEquals("offline", db.state(moverId)));
    }
  }

  @Test
  void presenceVersionsGrowWithEveryTransitionWhicheverNodeAndTheLoginAckCarriesThem() {
    try (TcpTestClient watcher = TcpTestClient.classic(first.tcpPort())) {
      int watcherId = watcher.register(TestNodes.unique("watcher"), "pw");
      int moverId;
      try (TcpTestClient registrar = TcpTestClient.classic(second.tcpPort())) {
        moverId = registrar.register(TestNodes.unique("mover"), "pw");
      }
      watcher.loginOk(watcherId, "pw");
      watcher.send(new JsonObject().put("msgid", 7).put("friendid", moverId));
      long last = -1;
      for (int i = 0; i < 4; i++) {
        ChatNode node = i % 2 == 0 ? second : first;
        try (TcpTestClient mover = TcpTestClient.classic(node.tcpPort())) {
          mover.loginOk(moverId, "pw");
          JsonObject online = watcher.expect(103);
          assertEquals("online", online.getString("state"));
          assertTrue(online.getLong("v") > last, online + " after v " + last);
          last = online.getLong("v");
          mover.abort();
          JsonObject offline = watcher.expect(103);
          assertEquals("offline", offline.getString("state"));
          assertTrue(offline.getLong("v") > last, offline + " after v " + last);
          last = offline.getLong("v");
        }
      }
      try (TcpTestClient again = TcpTestClient.classic(second.tcpPort())) {
        JsonObject ack = again.loginOk(watcherId, "pw");
        JsonObject friend = new JsonObject(ack.getJsonArray("friends").getString(0));
        assertEquals(moverId, friend.getInteger("id"));
        assertEquals("offline", friend.getString("state"));
        assertEquals(last, friend.getLong("v"), "the ack's friend carries the last v");
      }
    }
  }
}
