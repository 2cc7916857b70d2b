package chat.protocol.bus.presence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import chat.protocol.bus.BusJson;
import chat.protocol.bus.FailureCodes;
import chat.protocol.bus.LoginPolicy;
import chat.protocol.bus.ServiceFailure;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The presence boundary's records against the JSON the bus carries: the field names are the
 * ones shared-protocol's README lists (a node that builds the body by hand still talks to
 * one that uses the records), unknown fields are ignored, and bad bodies are INVALID_INPUT.
 */
class PresenceContractTest {

  private static void invalid(JsonObject body, Class<?> type) {
    ServiceFailure failure = assertThrows(ServiceFailure.class, () -> BusJson.fromJson(body, type));
    assertEquals(FailureCodes.INVALID_INPUT, failure.code(), failure.getMessage());
  }

  @Test
  void connectHasTheDocumentedFieldsAndDefaults() {
    JsonObject wire = new JsonObject().put("userId", 13).put("sessionId", "n1:7")
        .put("nodeId", "n1").put("transport", "ws").put("policy", "multi").put("seq", 7L);
    assertEquals(wire, BusJson.toJson(new Connect(13, "n1:7", "n1", "ws", "multi", 7)));

    Connect read = BusJson.fromJson(new JsonObject().put("userId", 13).put("sessionId", "s")
        .put("nodeId", "n").put("unknown", true), Connect.class);
    assertEquals(new Connect(13, "s", "n", "tcp", "kick", 0), read);
    assertEquals(LoginPolicy.KICK, read.loginPolicy());
  }

  @Test
  void badConnectsAreInvalidInput() {
    JsonObject good = new JsonObject().put("userId", 13).put("sessionId", "s").put("nodeId", "n");
    invalid(good.copy().put("userId", 0), Connect.class);
    invalid(good.copy().put("userId", "13"), Connect.class);
    invalid(good.copy().put("userId", 13.5), Connect.class);
    invalid(good.copy().put("seq", "7"), Connect.class);
    invalid(good.copy().put("policy", "share"), Connect.class);
    invalid(good.copy().putNull("sessionId"), Connect.class);
    invalid(new JsonObject(), Connect.class);
    invalid(null, Connect.class);
  }

  @Test
  void connectReplyListsTheReplacedSessions() {
    JsonObject wire = new JsonObject().put("replaced", new JsonArray()
        .add(new JsonObject().put("sessionId", "s1").put("nodeId", "n2"))).put("v", 57L);
    Connect.Reply reply = new Connect.Reply(List.of(new SessionAt("s1", "n2")), 57);
    assertEquals(wire, BusJson.toJson(reply));
    assertEquals(reply, BusJson.fromJson(wire, Connect.Reply.class));
  }

  @Test
  void disconnectAndItsReply() {
    JsonObject wire = new JsonObject().put("userId", 13).put("sessionId", "s").put("nodeId", "n")
        .put("reason", "heartbeat_timeout");
    Disconnect request = new Disconnect(13, "s", "n", "heartbeat_timeout");
    assertEquals(wire, BusJson.toJson(request));
    assertEquals(request, BusJson.fromJson(wire, Disconnect.class));
    assertEquals(new JsonObject().put("wentOffline", true),
        BusJson.toJson(new Disconnect.Reply(true)));
    invalid(wire.copy().put("userId", -1), Disconnect.class);
    JsonObject noUser = wire.copy();
    noUser.remove("userId");
    invalid(noUser, Disconnect.class);
  }

  @Test
  void locateAndQuery() {
    JsonObject ids = new JsonObject().put("ids", new JsonArray().add(13).add(14));
    assertEquals(ids, BusJson.toJson(UserIds.of(13, 14)));
    assertEquals(List.of(13, 14), BusJson.fromJson(ids, UserIds.class).ids());
    assertEquals(List.of(), BusJson.fromJson(new JsonObject(), UserIds.class).ids());
    invalid(new JsonObject().put("ids", "13"), UserIds.class);

    Located located = BusJson.fromJson(new JsonObject().put("sessions", new JsonObject()
        .put("13", new JsonArray()
            .add(new JsonObject().put("sessionId", "s").put("nodeId", "n")))), Located.class);
    assertEquals(List.of(new SessionAt("s", "n")), located.of(13));
    assertEquals(List.of(), located.of(14));

    JsonObject wire = new JsonObject()
        .put("states", new JsonObject().put("13", "online").put("14", "offline"))
        .put("versions", new JsonObject().put("13", 57L).put("14", 0L));
    States states = BusJson.fromJson(wire, States.class);
    assertEquals("online", states.stateOf(13));
    assertEquals(57L, states.versionOf(13));
    assertEquals("offline", states.stateOf(99));
    assertEquals(0L, states.versionOf(99));
    assertEquals(wire, BusJson.toJson(new States(Map.of("13", "online", "14", "offline"),
        Map.of("13", 57L, "14", 0L))));
  }

  @Test
  void digestListsEachSessionAsACompactArray() {
    JsonObject wire = new JsonObject().put("nodeId", "n1").put("upTo", 9L).put("sessions",
        new JsonArray().add(new JsonArray().add(13).add("n1:7").add("tcp").add(true))
            .add(new JsonArray().add(14).add("n1:8").add("ws").add(false)));
    Digest digest = new Digest("n1", 9, List.of(new Digest.Entry(13, "n1:7", "tcp", true),
        new Digest.Entry(14, "n1:8", "ws", false)));
    assertEquals(wire, BusJson.toJson(digest));
    assertEquals(digest, BusJson.fromJson(wire, Digest.class));
    assertEquals(new Digest("n1", 0, List.of()),
        BusJson.fromJson(new JsonObject().put("nodeId", "n1").put("unknown", 1), Digest.class));
    // an entry without its fourth element is a login under way (as the hand-written reader had it)
    assertEquals(List.of(new Digest.Entry(13, "n1:7", "tcp", false)), BusJson.fromJson(
        new JsonObject().put("nodeId", "n1").put("sessions", new JsonArray()
            .add(new JsonArray().add(13).add("n1:7").add("tcp"))), Digest.class).sessions());
    // written and read directly, the same as through the generic mapping
    assertEquals(wire, digest.toJson());
    assertEquals(BusJson.toJson(digest).encode(), digest.toJson().encode());
    assertEquals(digest, Digest.fromJson(wire));
    assertEquals(digest, Digest.fromJson(new JsonObject(wire.encode())));
    assertEquals(new Digest("n1", 0, List.of()),
        Digest.fromJson(new JsonObject().put("nodeId", "n1").put("unknown", 1)));
    assertEquals(List.of(new Digest.Entry(13, "n1:7", "tcp", false)), Digest.fromJson(
        new JsonObject().put("nodeId", "n1").put("sessions", new JsonArray()
            .add(new JsonArray().add(13).add("n1:7").add("tcp")))).sessions());
    assertEquals(new Digest("n1", 0, List.of(new Digest.Entry(13, "n1:7", null, true))),
        Digest.fromJson(new JsonObject().put("nodeId", "n1").put("sessions", new JsonArray()
            .add(new JsonArray().add(13).add("n1:7").addNull().add(true)))));
    for (JsonObject bad : List.of(wire.copy().put("upTo", "9"), wire.copy().put("upTo", 9.5),
        new JsonObject().put("upTo", 9),
        new JsonObject().put("nodeId", "n1").put("sessions", new JsonArray()
            .add(new JsonArray().add("13").add("n1:7").add("tcp").add(true))),
        new JsonObject().put("nodeId", "n1").put("sessions", new JsonArray()
            .add(new JsonArray().add(13).addNull().add("tcp").add(true))))) {
      assertThrows(ServiceFailure.class, () -> Digest.fromJson(bad), bad.encode());
    }
    invalid(wire.copy().put("upTo", "9"), Digest.class);
    invalid(new JsonObject().put("upTo", 9), Digest.class);
    invalid(new JsonObject().put("nodeId", "n1").put("sessions", new JsonArray()
        .add(new JsonArray().add("13").add("n1:7").add("tcp").add(true))), Digest.class);
    invalid(new JsonObject().put("nodeId", "n1").put("sessions", new JsonArray()
        .add(new JsonArray().add(13).addNull().add("tcp").add(true))), Digest.class);
  }

  @Test
  void pingHasNoFields() {
    assertEquals(new JsonObject(), BusJson.toJson(new Ping()));
    assertEquals(new JsonObject(), BusJson.toJson(new Ping.Reply()));
    assertEquals(new Ping(), BusJson.fromJson(new JsonObject().put("unknown", 1), Ping.class));
  }

  @Test
  void aNumberIsNeverReadAsAString() {
    JsonObject good = new JsonObject().put("userId", 13).put("sessionId", "s").put("nodeId", "n");
    invalid(good.copy().put("sessionId", 7), Connect.class);
    invalid(good.copy().put("nodeId", 1.5), Connect.class);
    invalid(good.copy().put("transport", true), Connect.class);
    invalid(new JsonObject().put("states", new JsonObject().put("13", 1)), States.class);
  }

  @Test
  void drainAndItsReply() {
    JsonObject wire = new JsonObject().put("nodeId", "n1");
    assertEquals(wire, BusJson.toJson(new Drain("n1")));
    assertEquals(new Drain("n1"), BusJson.fromJson(wire, Drain.class));
    assertEquals(new JsonObject().put("users", 3), BusJson.toJson(new Drain.Reply(3)));
    assertEquals(new Drain.Reply(3),
        BusJson.fromJson(new JsonObject().put("users", 3), Drain.Reply.class));
    invalid(new JsonObject(), Drain.class);
  }
}
