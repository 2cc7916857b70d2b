package chat.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import chat.node.TestDatabase.FreshDatabase;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.InputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** Offline messages, groups, broadcast and slow readers, on two clustered nodes. */
@ExtendWith(TestDatabase.Extension.class)
@Timeout(120)
class MessagingTest {

  private static final String ADMIN_TOKEN = "test-admin-token";
  private static TestNodes nodes;
  private static ChatNode first;
  private static ChatNode second;
  private static String dbUrl;

  @BeforeAll
  static void start(FreshDatabase database) {
    dbUrl = database.url();
    nodes = new TestNodes(database.url(), Map.of(
        "CHAT_ADMIN_TOKEN", ADMIN_TOKEN,
        "CHAT_OUTBOUND_MAX_BYTES", "262144"));
    first = nodes.start();
    second = nodes.start();
  }

  @AfterAll
  static void stop() {
    nodes.close();
  }


  @Test
  void messagesToAnOfflineUserArriveOnceInOrderAtTheNextLogin() {
    int receiverId;
    try (TcpTestClient sender = TcpTestClient.classic(first.tcpPort());
         TcpTestClient receiver = TcpTestClient.classic(second.tcpPort())) {
      int senderId = sender.register(TestNodes.unique("sender"), "pw");
      receiverId = receiver.register(TestNodes.unique("away"), "pw");
      sender.loginOk(senderId, "pw");
      for (int i = 0; i < 30; i++) {
        sender.send(new JsonObject().put("msgid", 6).put("toid", receiverId)
            .put("msg", "while you were out " + i + " \"q\" 😀").put("seq", i));
        assertEquals(i, sender.expect(105).getInteger("seq"));
      }
    }
    try (TcpTestClient receiver = TcpTestClient.classic(second.tcpPort())) {
      JsonObject ack = receiver.loginOk(receiverId, "pw");
      JsonArray offline = ack.getJsonArray("offlinemsg");
      assertEquals(30, offline.size());
      for (int i = 0; i < 30; i++) {
        JsonObject message = new JsonObject(offline.getString(i));
        assertEquals(6, message.getInteger("msgid"));
        assertEquals("while you were out " + i + " \"q\" 😀", message.getString("msg"));
        assertEquals(receiverId, message.getInteger("toid"));
      }
      receiver.send(new JsonObject().put("msgid", 3));
    }
    try (TcpTestClient receiver = TcpTestClient.classic(first.tcpPort())) {
      receiver.send(new JsonObject().put("msgid", 1).put("id", receiverId).put("password", "pw")
          .put("format", "structured"));
      JsonObject again = receiver.expect(2);
      assertEquals(0, again.getInteger("errno"));
      assertEquals(new JsonArray(), again.getJsonArray("offlinemsg"), "delivered only once");
    }
  }

  /**
   * A sender stores a chat whose delivery it took as failed (its answer came too late) although
   * the recipient's session had written it. That session drops the stored copy at its next
   * offline check; it must also acknowledge it, or the client gets the chat again at its next
   * login. The late store is made here by hand: the chat's mailbox row, pending.
   */
  @Test
  void aStoredCopyOfAChatTheSessionHadLiveIsNotGivenAgainAtTheNextLogin() {
    Db db = new Db(dbUrl);
    int aliceId;
    String msgno;
    try (TcpTestClient alice = TcpTestClient.classic(first.tcpPort());
         TcpTestClient bob = TcpTestClient.classic(first.tcpPort());
         TcpTestClient carol = TcpTestClient.classic(second.tcpPort())) {
      aliceId = alice.register(TestNodes.unique("alice"), "pw");
      int bobId = bob.register(TestNodes.unique("bob"), "pw");
      int carolId = carol.register(TestNodes.unique("carol"), "pw");
      carol.loginOk(carolId, "pw");
      carol.send(new JsonObject().put("msgid", 8).put("groupname", TestNodes.unique("g"))
          .put("groupdesc", "desc"));
      int groupId = carol.expect(105).getInteger("groupid");
      alice.loginOk(aliceId, "pw");
      alice.send(new JsonObject().put("msgid", 9).put("groupid", groupId).put("seq", 1));
      alice.expect(105);
      alice.send(new JsonObject().put("msgid", 3).put("seq", 2));
      alice.expect(105);
      // stored for alice while she is away: carol's group chats now check her stored ones first
      carol.send(new JsonObject().put("msgid", 10).put("groupid", groupId).put("msg", "away")
          .put("seq", 3));
      carol.expect(105);
      try (TcpTestClient back = TcpTestClient.classic(first.tcpPort())) {
        assertEquals(1, back.loginOk(aliceId, "pw").getJsonArray("offlinemsg").size());
        bob.loginOk(bobId, "pw");
        bob.send(new JsonObject().put("msgid", 6).put("toid", aliceId).put("msg", "live")
            .put("seq", 4));
        bob.expect(105);
        msgno = back.expect(6).getString("msgno");
        db.update("INSERT INTO mailbox (userid, message_id, pending)"
            + " SELECT ?, id, 1 FROM message WHERE msgno = ?", aliceId, msgno);
        carol.send(new JsonObject().put("msgid", 10).put("groupid", groupId).put("msg", "after")
            .put("seq", 5));
        carol.expect(105);
        assertEquals("after", back.expect(10).getString("msg"));
        back.expectSilence(Duration.ofMillis(300));
        Eventually.within(Duration.ofSeconds(5), () -> assertEquals("0", db.one(
            "SELECT b.pending FROM mailbox b JOIN message m ON m.id = b.message_id"
                + " WHERE b.userid = ? AND m.msgno = ?", aliceId, msgno),
            "the stored copy is acknowledged"));
      }
    }
    try (TcpTestClient again = TcpTestClient.classic(second.tcpPort())) {
      assertEquals(new JsonArray(), again.loginOk(aliceId, "pw").getJsonArray("offlinemsg"),
          "the chat had live is not given again");
    }
  }

  @Test
  void groupChatReachesEveryOtherMemberOnBothNodesAndStoresForOfflineOnes() {
    try (TcpTestClient creator = TcpTestClient.classic(first.tcpPort());
         WsTestClient member = WsTestClient.connect(second.httpPort());
         TcpTestClient outsider = TcpTestClient.classic(second.tcpPort())) {
      int creatorId = creator.register(TestNodes.unique("creator"), "pw");
      int memberId = member.register(TestNodes.unique("member"), "pw");
      int outsiderId = outsider.register(TestNodes.unique("outsider"), "pw");
      int awayId;
      try (TcpTestClient away = TcpTestClient.classic(first.tcpPort())) {
        awayId = away.register(TestNodes.unique("away"), "pw");
        away.loginOk(awayId, "pw");
        away.send(new JsonObject().put("msgid", 9).put("groupid", -1));
        away.expect(104);
        creator.loginOk(creatorId, "pw");
        creator.send(new JsonObject().put("msgid", 8).put("groupname", TestNodes.unique("g"))
            .put("groupdesc", "desc"));
        int groupId = creator.expect(105).getInteger("groupid");
        away.send(new JsonObject().put("msgid", 9).put("groupid", groupId).put("seq", 1));
        away.expect(105);
        away.send(new JsonObject().put("msgid", 3).put("seq", 2));
        away.expect(105);
        member.loginOk(memberId, "pw");
        member.send(new JsonObject().put("msgid", 9).put("groupid", groupId).put("seq", 1));
        member.expect(105);
        outsider.loginOk(outsiderId, "pw");

        creator.send(new JsonObject().put("msgid", 10).put("groupid", groupId).put("msg", "hi all"));
        JsonObject got = member.expect(10);
        assertEquals(creatorId, got.getInteger("id"));
        assertEquals(groupId, got.getInteger("groupid"));
        assertEquals("hi all", got.getString("msg"));
        creator.expectSilence(Duration.ofMillis(300));

        outsider.send(new JsonObject().put("msgid", 10).put("groupid", groupId).put("msg", "x"));
        assertEquals(403, outsider.expect(104).getInteger("errno"));

        JsonObject ack = new TcpTestClientLogin(first.tcpPort()).login(awayId);
        JsonArray offline = ack.getJsonArray("offlinemsg");
        assertEquals(1, offline.size());
        assertEquals("hi all", offline.getJsonObject(0).getString("msg"));
        JsonObject group = ack.getJsonArray("groups").getJsonObject(0);
        assertEquals(groupId, group.getInteger("id"));
        assertEquals(3, group.getJsonArray("users").size());
      }
    }
  }

  /** Logs in with the structured format on a fresh connection and returns the ack. */
  private record TcpTestClientLogin(int port) {
    JsonObject login(int id) {
      try (TcpTestClient client = TcpTestClient.classic(port)) {
        client.send(new JsonObject().put("msgid", 1).put("id", id).put("password", "pw")
            .put("format", "structured"));
        return client.expect(2);
      }
    }
  }

  @Test
  void anAdminBroadcastReachesEveryLoggedInClientOnEveryNodeOnce() throws Exception {
    try (TcpTestClient a = TcpTestClient.classic(first.tcpPort());
         WsTestClient b = WsTestClient.connect(second.httpPort());
         TcpTestClient visitor = TcpTestClient.classic(second.tcpPort())) {
      a.loginOk(a.register(TestNodes.unique("ba"), "pw"), "pw");
      b.loginOk(b.register(TestNodes.unique("bb"), "pw"), "pw");
      HttpClient http = HttpClient.newHttpClient();
      HttpRequest.Builder request = HttpRequest.newBuilder(
              URI.create("http://127.0.0.1:" + first.httpPort() + "/api/admin/broadcast"))
          .POST(HttpRequest.BodyPublishers.ofString("{\"msg\":\"maintenance at noon\"}"));
      assertEquals(401, http.send(request.build(), HttpResponse.BodyHandlers.ofString()).statusCode());
      HttpResponse<String> sent = http.send(
          request.header("Authorization", "Bearer " + ADMIN_TOKEN).build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(202, sent.statusCode(), sent.body());
      assertEquals("maintenance at noon", a.expect(108).getString("msg"));
      assertEquals("maintenance at noon", b.expect(108).getString("msg"));
      a.expectSilence(Duration.ofMillis(300));
      b.expectSilence(Duration.ofMillis(10));
      visitor.expectSilence(Duration.ofMillis(10));
    }
  }

  @Test
  void aReaderThatCannotKeepUpIsCutOffAndFindsTheRestAtItsNextLogin() throws Exception {
    int total = 300;
    int slowId;
    List<String> read = new ArrayList<>();
    try (TcpTestClient sender = TcpTestClient.classic(first.tcpPort());
         Socket slow = new Socket()) {
      int senderId = sender.register(TestNodes.unique("fast"), "pw");
      try (TcpTestClient setup = TcpTestClient.classic(second.tcpPort())) {
        slowId = setup.register(TestNodes.unique("slow"), "pw");
      }
      sender.loginOk(senderId, "pw");
      slow.setReceiveBufferSize(4096);
      slow.connect(new java.net.InetSocketAddress("127.0.0.1", second.tcpPort()));
      slow.getOutputStream().write(("{\"msgid\":1,\"id\":" + slowId + ",\"password\":\"pw\"}\0")
          .getBytes(StandardCharsets.UTF_8));
      slow.setSoTimeout(10_000);
      int b;
      while ((b = slow.getInputStream().read()) > 0) {
        // the login ack, up to its NUL; after it the client stops reading
      }
      // 300 × 30 KB: far more than the kernel buffers between the two ends can hold.
      String pad = "p".repeat(30_000);
      for (int i = 0; i < total; i++) {
        sender.send(new JsonObject().put("msgid", 6).put("toid", slowId).put("msg", i + ":" + pad)
            .put("seq", i));
      }
      for (int i = 0; i < total; i++) {
        assertEquals(0, sender.expect(105).getInteger("errno"));
      }
      // Now read whatever reached the socket before the server cut it off, up to EOF: the
      // cut closed the connection at once, so the EOF follows what the kernels hold.
      slow.setSoTimeout(5_000);
      read.addAll(frames(slow.getInputStream()));
    }
    List<String> seen = new ArrayList<>();
    for (String frame : read) {
      JsonObject message = new JsonObject(frame);
      if (message.getInteger("msgid") == 6) {
        seen.add(message.getString("msg").split(":")[0]);
      }
    }
    assertTrue(seen.size() < total, "the slow reader was not cut off: read " + seen.size());
    JsonObject ack = new TcpTestClientLogin(first.tcpPort()).login(slowId);
    for (Object stored : ack.getJsonArray("offlinemsg")) {
      seen.add(((JsonObject) stored).getString("msg").split(":")[0]);
    }
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < total; i++) {
      expected.add(String.valueOf(i));
    }
    // Not sorted: what was read, then what was stored, is every message once, in order.
    assertEquals(expected, seen, "every message either read or stored, once, in order");
  }

  private static List<String> frames(InputStream in) throws Exception {
    List<String> frames = new ArrayList<>();
    java.io.ByteArrayOutputStream current = new java.io.ByteArrayOutputStream();
    byte[] buffer = new byte[65536];
    int n;
    while ((n = in.read(buffer)) > 0) {
      for (int i = 0; i < n; i++) {
        if (buffer[i] == 0 || buffer[i] == '\n') {
          if (current.size() > 0) {
            frames.add(current.toString(StandardCharsets.UTF_8));
            current.reset();
          }
        } else {
          current.write(buffer[i]);
        }
      }
    }
    return frames;
  }
}
