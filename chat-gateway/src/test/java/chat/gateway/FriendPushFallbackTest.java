package chat.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;

import chat.protocol.bus.Addresses;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * ADD_FRIEND against a user service that answers friend.add with {@code {}} (before it named
 * both sides): FRIEND still carries the names, the friend's from the user's profile and the
 * user's own from the session. The friend is online on another node (a fake consumer).
 */
@Timeout(30)
class FriendPushFallbackTest {

  private static final String FAR = "far-node";
  private GatewayHarness harness;
  private FakeServices services;

  @BeforeEach
  void start() throws Exception {
    harness = GatewayHarness.start(new JsonObject());
    services = harness.services;
  }

  @AfterEach
  void stop() throws Exception {
    harness.close();
  }

  @Test
  void anEmptyFriendAddReplyStillGivesBothSidesTheNames() {
    int alice = services.user("alice");
    int bob = services.user("bob");
    services.online(bob, FAR, "bob-1");
    List<JsonObject> toFar = new CopyOnWriteArrayList<>();
    FarNode.takingAll(harness.vertx, FAR, toFar::add);
    harness.vertx.eventBus().<JsonObject>consumer(Addresses.USER_FRIEND_ADD, m -> {
      services.friends(alice, bob);
      services.friends(bob, alice);
      m.reply(new JsonObject());
    });

    try (TestClient client = TestClient.connect(harness.port())) {
      client.login(alice);
      client.send(new JsonObject().put("msgid", 7).put("friendid", bob).put("seq", 1));
      JsonObject friend = client.expect(111);
      assertEquals(bob, friend.getInteger("id"));
      assertEquals("bob", friend.getString("name"));
      assertEquals(0, client.expect(105).getInteger("errno"));
    }
    Eventually.holds("FRIEND naming alice delivered to bob's session: " + toFar, 5000,
        () -> toFar.stream().anyMatch(d -> d.getInteger("userId") == bob
            && "bob-1".equals(d.getString("sessionId"))
            && d.getJsonObject("payload").getInteger("msgid") == 111
            && "alice".equals(d.getJsonObject("payload").getString("name"))));
  }
}
