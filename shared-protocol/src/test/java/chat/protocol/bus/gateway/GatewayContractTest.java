package chat.protocol.bus.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import chat.protocol.bus.BusJson;
import chat.protocol.bus.FailureCodes;
import chat.protocol.bus.ServiceFailure;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * The gateway boundary's records against the JSON the bus carries: the field names are the
 * ones shared-protocol's README lists (other nodes and tests build and read these bodies by
 * name, and nodes roll one at a time), optional fields are left out when absent, unknown
 * fields are ignored, and bad bodies are INVALID_INPUT under the rules of BusFields.
 */
class GatewayContractTest {

  private static final JsonObject CHAT = new JsonObject().put("msgid", 6).put("id", 13)
      .put("name", "zhang san").put("toid", 14).put("msg", "hello").put("time", "t")
      .put("msgno", "n1-7");

  private static void invalid(JsonObject body, Class<?> type) {
    ServiceFailure failure = assertThrows(ServiceFailure.class, () -> BusJson.fromJson(body, type));
    assertEquals(FailureCodes.INVALID_INPUT, failure.code(), failure.getMessage());
  }

  /** Refused by both readers of deliver: BusJson and the record's own. */
  private static void invalidDelivery(JsonObject body) {
    invalid(body, Deliver.class);
    ServiceFailure failure = assertThrows(ServiceFailure.class, () -> Deliver.fromJson(body));
    assertEquals(FailureCodes.INVALID_INPUT, failure.code(), failure.getMessage());
  }

  /** Deliver's hand-written toJson/fromJson give what BusJson gives. */
  private static void deliverRoundTrips(JsonObject wire, Deliver record) {
    roundTrips(wire, record, Deliver.class);
    assertEquals(wire, record.toJson());
    assertEquals(record, Deliver.fromJson(wire));
    assertEquals(record, Deliver.fromJson(wire.copy()));
    assertEquals(record, Deliver.fromJson(new JsonObject(wire.encode())));
  }

  private static JsonObject without(JsonObject body, String key) {
    JsonObject copy = body.copy();
    copy.remove(key);
    return copy;
  }

  private static <T> void roundTrips(JsonObject wire, T record, Class<T> type) {
    assertEquals(wire, BusJson.toJson(record));
    assertEquals(record, BusJson.fromJson(wire, type));
    // as the local event bus hands it over (a copy holding JsonObject values)
    assertEquals(record, BusJson.fromJson(wire.copy(), type));
    // as a clustered node decodes it
    assertEquals(record, BusJson.fromJson(new JsonObject(wire.encode()), type));
  }

  private static JsonObject chatDelivery() {
    return new JsonObject().put("userId", 14).put("sessionId", "n1:7")
        .put("deadline", 1_800_000_000_000L).put("payload", CHAT.copy());
  }

  @Test
  void deliverHasTheDocumentedFields() {
    deliverRoundTrips(chatDelivery(), new Deliver(14, CHAT, "n1:7", 1_800_000_000_000L));
    // a notice to every session of the user: no sessionId, no deadline on the wire
    JsonObject notice = new JsonObject().put("userId", 14).put("payload", CHAT.copy());
    deliverRoundTrips(notice, Deliver.toUser(14, CHAT));
    JsonObject withNulls = notice.copy().putNull("sessionId").putNull("deadline")
        .put("unknown", 1);
    assertEquals(Deliver.toUser(14, CHAT), BusJson.fromJson(withNulls, Deliver.class));
    assertEquals(Deliver.toUser(14, CHAT), Deliver.fromJson(withNulls));
    // an id sent as a long (as a body decoded from the cluster may hold it)
    assertEquals(Deliver.toUser(14, CHAT), Deliver.fromJson(notice.copy().put("userId", 14L)));
  }

  @Test
  void aDeliveryIsLateOnlyAfterItsDeadline() {
    Deliver chat = new Deliver(14, CHAT, "n1:7", 1000L);
    assertFalse(chat.lateAt(1000));
    assertTrue(chat.lateAt(1001));
    assertFalse(Deliver.toUser(14, CHAT).lateAt(Long.MAX_VALUE));
  }

  @Test
  void deliverReplyCountsTheSessions() {
    roundTrips(new JsonObject().put("delivered", 2), new Deliver.Reply(2), Deliver.Reply.class);
    assertEquals(new JsonObject().put("delivered", 2), new Deliver.Reply(2).toJson());
  }

  @Test
  void badDeliveriesAreInvalidInput() {
    JsonObject good = chatDelivery();
    invalidDelivery(good.copy().put("userId", 0));
    invalidDelivery(good.copy().put("userId", -1));
    invalidDelivery(good.copy().put("userId", "14"));
    invalidDelivery(good.copy().put("userId", 14.5));
    invalidDelivery(good.copy().put("userId", Integer.MAX_VALUE + 1L));
    invalidDelivery(without(good, "userId"));
    invalidDelivery(without(good, "payload"));
    invalidDelivery(good.copy().put("payload", "hello"));
    invalidDelivery(good.copy().put("payload", ""));
    invalidDelivery(good.copy().put("payload", new JsonArray().add(1)));
    invalidDelivery(good.copy().put("sessionId", 7));
    invalidDelivery(good.copy().put("deadline", "1800000000000"));
    invalidDelivery(good.copy().put("deadline", 1.5));
    invalidDelivery(good.copy().put("deadline", -1));
    invalidDelivery(new JsonObject());
    invalidDelivery(null);
  }

  @Test
  void deliverBatchOfAnEarlierNodeIsReadFromItsJson() {
    JsonObject item = new JsonObject().put("userId", 14).put("sessionId", "n1:7")
        .put("payload", CHAT.copy());
    JsonObject wire = new JsonObject().put("deadline", 1_800_000_000_000L)
        .put("items", new JsonArray().add(item).add(item.copy().put("sessionId", "n1:8")));
    String text = CHAT.encode();
    DeliverBatch batch = new DeliverBatch(1_800_000_000_000L, java.util.List.of(
        new DeliverBatch.Item(14, "n1:7", 6, "n1-7", text),
        new DeliverBatch.Item(14, "n1:8", 6, "n1-7", text)));
    assertEquals(batch, DeliverBatch.fromJson(wire));
    assertEquals(batch, DeliverBatch.fromJson(new JsonObject(wire.encode())));
    assertEquals(batch, DeliverBatch.fromJson(wire.copy().put("deadline", 1_800_000_000_000L)
        .put("unknown", 1)));
    assertFalse(batch.lateAt(1_800_000_000_000L));
    assertTrue(batch.lateAt(1_800_000_000_001L));
    assertEquals(new JsonObject().put("taken", new JsonArray().add(true).add(false)),
        new DeliverBatch.Reply(java.util.List.of(true, false)).toJson());
    for (JsonObject bad : java.util.List.of(without(wire, "deadline"), without(wire, "items"),
        wire.copy().put("deadline", -1), wire.copy().put("items", new JsonArray()),
        wire.copy().put("items", new JsonArray().add("x")),
        wire.copy().put("items", new JsonArray().add(without(item, "sessionId"))),
        wire.copy().put("items", new JsonArray().add(item.copy().put("userId", 0))),
        wire.copy().put("items", new JsonArray().add(without(item, "payload"))))) {
      ServiceFailure failure = assertThrows(ServiceFailure.class,
          () -> DeliverBatch.fromJson(bad), bad.encode());
      assertEquals(FailureCodes.INVALID_INPUT, failure.code(), failure.getMessage());
    }
  }

  @Test
  void deliverBatchTravelsInItsLayout() {
    String text = CHAT.copy().put("msg", "h\u00e9llo \"\u4f60\u597d\" \ud83d\ude00").encode();
    DeliverBatch batch = new DeliverBatch(1_800_000_000_000L, java.util.List.of(
        DeliverBatch.Item.of(14, "n1:7", new JsonObject(text), text),
        DeliverBatch.Item.of(15, "n\u00e9:8", new JsonObject().put("msgid", 103),
            "{\"msgid\":103}")));
    assertEquals(new DeliverBatch.Item(14, "n1:7", 6, "n1-7", text), batch.items().get(0));
    assertEquals(new DeliverBatch.Item(15, "n\u00e9:8", 103, null, "{\"msgid\":103}"),
        batch.items().get(1));
    Buffer body = batch.toBuffer();
    Buffer expected = Buffer.buffer().appendByte((byte) 1).appendLong(1_800_000_000_000L)
        .appendInt(2);
    byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
    expected.appendInt(14).appendShort((short) 4).appendString("n1:7").appendInt(6)
        .appendShort((short) 4).appendString("n1-7").appendInt(utf8.length).appendBytes(utf8);
    expected.appendInt(15).appendShort((short) 5).appendString("n\u00e9:8").appendInt(103)
        .appendShort((short) -1).appendInt(13).appendString("{\"msgid\":103}");
    assertEquals(expected, body);
    assertEquals(batch, DeliverBatch.fromBuffer(body));
    assertEquals(batch, DeliverBatch.fromBuffer(Buffer.buffer(body.getBytes())));

    Buffer reply = new DeliverBatch.Reply(java.util.List.of(true, false, true)).toBuffer();
    assertEquals(Buffer.buffer(new byte[] {1, 0, 1}), reply);
    assertEquals(java.util.List.of(true, false, true),
        DeliverBatch.Reply.fromBuffer(reply, 3).taken());
    for (Buffer bad : java.util.List.of(reply.getBuffer(0, 2), Buffer.buffer(new byte[] {1, 2, 1}),
        Buffer.buffer())) {
      ServiceFailure failure = assertThrows(ServiceFailure.class,
          () -> DeliverBatch.Reply.fromBuffer(bad, 3));
      assertEquals(FailureCodes.INVALID_INPUT, failure.code(), failure.getMessage());
    }
    assertThrows(ServiceFailure.class, () -> DeliverBatch.Reply.fromBuffer(null, 1));

    int firstItem = 13;
    java.util.List<Buffer> bad = new java.util.ArrayList<>();
    bad.add(Buffer.buffer());
    bad.add(body.getBuffer(0, 12));
    bad.add(body.copy().setByte(0, (byte) 2)); // another layout
    bad.add(body.copy().setLong(1, -1)); // negative deadline
    bad.add(body.copy().setInt(9, 0)); // no items
    bad.add(body.copy().setInt(9, 3)); // more items than there are
    bad.add(body.copy().setInt(9, Integer.MAX_VALUE)); // far more than could fit
    bad.add(body.copy().setInt(9, 1)); // bytes left after the items
    bad.add(body.copy().setInt(firstItem, 0)); // not a user id
    bad.add(body.copy().setShort(firstItem + 4, (short) -1)); // a negative length
    bad.add(body.copy().setShort(firstItem + 4, (short) 30_000)); // past the end
    bad.add(body.copy().setShort(firstItem + 14, (short) -2)); // a msgno of negative length
    bad.add(body.copy().setShort(firstItem + 14, (short) 30_000)); // a msgno past the end
    bad.add(body.copy().setInt(firstItem + 20, Integer.MAX_VALUE)); // text past the end
    bad.add(body.getBuffer(0, body.length() - 1)); // the last text cut short
    bad.add(body.getBuffer(0, firstItem + 3)); // an item cut inside its user id
    bad.add(null);
    for (Buffer one : bad) {
      ServiceFailure failure = assertThrows(ServiceFailure.class,
          () -> DeliverBatch.fromBuffer(one), String.valueOf(one));
      assertEquals(FailureCodes.INVALID_INPUT, failure.code(), failure.getMessage());
    }
  }

  @Test
  void kickAndItsReply() {
    JsonObject wire = new JsonObject().put("userId", 13).put("sessionId", "n2:4");
    roundTrips(wire, new Kick(13, "n2:4"), Kick.class);
    roundTrips(new JsonObject(), new Kick.Reply(), Kick.Reply.class);
    invalid(without(wire, "sessionId"), Kick.class);
    invalid(wire.copy().put("sessionId", 4), Kick.class);
    invalid(wire.copy().put("userId", 0), Kick.class);
    invalid(wire.copy().put("userId", "13"), Kick.class);
    invalid(without(wire, "userId"), Kick.class);
  }

  @Test
  void offlineCheckForOneSessionOrEvery() {
    roundTrips(new JsonObject().put("userId", 13).put("sessionId", "n2:4"),
        new OfflineCheck(13, "n2:4"), OfflineCheck.class);
    roundTrips(new JsonObject().put("userId", 13), new OfflineCheck(13, null), OfflineCheck.class);
    roundTrips(new JsonObject(), new OfflineCheck.Reply(), OfflineCheck.Reply.class);
    invalid(new JsonObject().put("userId", "13"), OfflineCheck.class);
    invalid(new JsonObject().put("userId", 13).put("sessionId", 4), OfflineCheck.class);
    invalid(new JsonObject().put("sessionId", "n2:4"), OfflineCheck.class);
  }

  @Test
  void broadcastCarriesItsPayload() {
    JsonObject payload = new JsonObject().put("msgid", 108).put("msg", "maintenance at 6");
    roundTrips(new JsonObject().put("payload", payload), new Broadcast(payload), Broadcast.class);
    invalid(new JsonObject(), Broadcast.class);
    invalid(new JsonObject().put("payload", "maintenance"), Broadcast.class);
    invalid(new JsonObject().put("payload", 108), Broadcast.class);
  }
}
