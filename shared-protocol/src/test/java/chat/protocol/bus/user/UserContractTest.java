package chat.protocol.bus.user;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import chat.protocol.bus.BusJson;
import chat.protocol.bus.FailureCodes;
import chat.protocol.bus.ServiceFailure;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Collections;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * The user service's records against the JSON the bus carries: each round-trips, its field
 * names are the ones shared-protocol's README lists (a node that builds the body by hand still
 * talks to one that uses the records), unknown fields are ignored, and a body that breaks the
 * bus field rules (id 0, a string or a fraction for a number, a missing field) is refused with
 * INVALID_INPUT.
 */
class UserContractTest {

  private static final JsonObject CHAT = new JsonObject().put("msgid", 6).put("id", 13)
      .put("toid", 14).put("msg", "hello \"you\" \uD83D\uDE00").put("msgno", "n1-42")
      .put("time", "2026-12-01 17:00:00");
  private static final JsonObject GROUP_CHAT = new JsonObject().put("msgid", 10).put("id", 13)
      .put("groupid", 5).put("msg", "hi all").put("msgno", "n1-43");

  private static void invalid(JsonObject body, Class<?> type) {
    invalid(body, b -> BusJson.fromJson(b, type));
  }

  private static void invalid(JsonObject body, Function<JsonObject, ?> reader) {
    ServiceFailure failure = assertThrows(ServiceFailure.class, () -> reader.apply(body),
        () -> "accepted " + body);
    assertEquals(FailureCodes.INVALID_INPUT, failure.code(), failure.getMessage());
  }

  /** The record is this JSON on the wire, and this JSON reads as the record. */
  private static <T> void wire(T record, JsonObject json) {
    assertEquals(json, BusJson.toJson(record));
    @SuppressWarnings("unchecked")
    Class<T> type = (Class<T>) record.getClass();
    assertEquals(record, BusJson.fromJson(json, type));
    assertEquals(record, BusJson.fromJson(json.copy().put("unknown", new JsonArray()), type));
  }

  /** An id field that must be 1..2^31-1 refuses 0, -1, 2^31, a string, a fraction, null. */
  private static void badIds(JsonObject good, String key, Class<?> type) {
    BusJson.fromJson(good, type);
    for (Object bad : new Object[] {0, -1, 1L << 31, "13", 13.5, 13.0, true}) {
      invalid(good.copy().put(key, bad), type);
    }
    invalid(good.copy().putNull(key), type);
    JsonObject missing = good.copy();
    missing.remove(key);
    invalid(missing, type);
  }

  @Test
  void register() {
    wire(new Register("zhang san", "pw"),
        new JsonObject().put("name", "zhang san").put("password", "pw"));
    wire(new Register.Reply(13), new JsonObject().put("id", 13));
    assertEquals("li si", BusJson.fromJson(new JsonObject().put("name", "  li si ")
        .put("password", "pw"), Register.class).name());
    JsonObject good = new JsonObject().put("name", "zhang san").put("password", "pw");
    BusJson.fromJson(good.copy().put("name", "\uD83D\uDE00".repeat(64)), Register.class);
    for (Object bad : new Object[] {"", "   ", "x".repeat(65), "a\u0001b", "line\nbreak",
        "a\u2028b", 42, true}) {
      invalid(good.copy().put("name", bad), Register.class);
    }
    for (Object bad : new Object[] {"", "p".repeat(129), 1234}) {
      invalid(good.copy().put("password", bad), Register.class);
    }
    invalid(new JsonObject().put("name", "zhang san"), Register.class);
    invalid(new JsonObject().put("password", "pw"), Register.class);
    invalid(null, Register.class);
  }

  @Test
  void login() {
    wire(new Login(13, null, "pw", null), new JsonObject().put("id", 13).put("password", "pw"));
    wire(new Login(null, "zhang san", null, "tok"),
        new JsonObject().put("name", "zhang san").put("token", "tok"));
    wire(new Login.Reply(13, "zhang san", "tok"),
        new JsonObject().put("id", 13).put("name", "zhang san").put("token", "tok"));
    // the id wins over the name, the password over the token: the others are not kept
    assertEquals(new Login(13, null, "pw", null), new Login(13, "other", "pw", "tok"));
    assertEquals("li si", BusJson.fromJson(new JsonObject().put("name", " li si ")
        .put("password", "pw"), Login.class).name());
    JsonObject good = new JsonObject().put("id", 13).put("password", "pw");
    for (Object bad : new Object[] {0, -3, "13", 1.5, 1L << 31}) {
      invalid(good.copy().put("id", bad), Login.class);
    }
    invalid(good.copy().put("password", 12), Login.class);
    invalid(new JsonObject().put("id", 13), Login.class);
    invalid(new JsonObject().put("id", 13).put("token", 7), Login.class);
    invalid(new JsonObject().put("password", "pw"), Login.class);
  }

  @Test
  void userRefAndItsReplies() {
    wire(new UserRef(13), new JsonObject().put("userId", 13));
    badIds(new JsonObject().put("userId", 13), "userId", UserRef.class);
    wire(Empty.INSTANCE, new JsonObject());
    wire(new FriendIds(List.of(14, 15)),
        new JsonObject().put("ids", new JsonArray().add(14).add(15)));
    assertEquals(new FriendIds(List.of()), BusJson.fromJson(new JsonObject(), FriendIds.class));
    invalid(new JsonObject().put("ids", new JsonArray().add("14")), FriendIds.class);
  }

  @Test
  void friendListsOfManyUsers() {
    wire(new FriendLists(List.of(13, 14)),
        new JsonObject().put("userIds", new JsonArray().add(13).add(14)));
    invalid(new JsonObject(), FriendLists.class);
    invalid(new JsonObject().put("userIds", new JsonArray()), FriendLists.class);
    invalid(new JsonObject().put("userIds", new JsonArray().add(0)), FriendLists.class);
    invalid(new JsonObject().put("userIds", new JsonArray().add("13")), FriendLists.class);
    JsonArray tooMany = new JsonArray();
    for (int i = 1; i <= FriendLists.MAX_USERS + 1; i++) {
      tooMany.add(i);
    }
    invalid(new JsonObject().put("userIds", tooMany), FriendLists.class);
    wire(new FriendLists.Reply(List.of(new FriendLists.Of(13, List.of(14)),
            new FriendLists.Of(14, List.of()))),
        new JsonObject().put("lists", new JsonArray()
            .add(new JsonObject().put("userId", 13).put("ids", new JsonArray().add(14)))
            .add(new JsonObject().put("userId", 14).put("ids", new JsonArray()))));
    invalid(new JsonObject().put("lists", new JsonArray().add(new JsonObject().put("ids",
        new JsonArray()))), FriendLists.Reply.class);
  }

  @Test
  void profile() {
    JsonObject json = new JsonObject()
        .put("friends", new JsonArray().add(new JsonObject().put("id", 14).put("name", "li si")))
        .put("groups", new JsonArray().add(new JsonObject().put("id", 5)
            .put("groupname", "team").put("groupdesc", "the team")
            .put("users", new JsonArray()
                .add(new JsonObject().put("id", 13).put("name", "zhang san").put("role", "creator"))
                .add(new JsonObject().put("id", 14).put("name", "li si").put("role", "normal")))));
    wire(new Profile(List.of(new NameCard(14, "li si")), List.of(new Profile.Group(5, "team",
        "the team", List.of(new Profile.Member(13, "zhang san", "creator"),
            new Profile.Member(14, "li si", "normal"))))), json);
    wire(new Profile(List.of(), List.of()),
        new JsonObject().put("friends", new JsonArray()).put("groups", new JsonArray()));
    assertEquals(new Profile(List.of(), List.of()),
        BusJson.fromJson(new JsonObject(), Profile.class));
  }

  @Test
  void friendAdd() {
    wire(new FriendAdd(13, 14), new JsonObject().put("userId", 13).put("friendId", 14));
    badIds(new JsonObject().put("userId", 13).put("friendId", 14), "userId", FriendAdd.class);
    badIds(new JsonObject().put("userId", 13).put("friendId", 14), "friendId", FriendAdd.class);
    invalid(new JsonObject().put("userId", 13).put("friendId", 13), FriendAdd.class);
    wire(new FriendAdd.Reply(new NameCard(13, "zhang san"), new NameCard(14, "li si")),
        new JsonObject().put("user", new JsonObject().put("id", 13).put("name", "zhang san"))
            .put("friend", new JsonObject().put("id", 14).put("name", "li si")));
    // a service that answers {} (the caller then looks the names up)
    assertEquals(new FriendAdd.Reply(null, null),
        BusJson.fromJson(new JsonObject(), FriendAdd.Reply.class));
  }

  @Test
  void groups() {
    wire(new GroupCreate(13, "team", "line one\nline two"), new JsonObject().put("userId", 13)
        .put("groupname", "team").put("groupdesc", "line one\nline two"));
    wire(new GroupCreate.Reply(5), new JsonObject().put("groupid", 5));
    JsonObject good = new JsonObject().put("userId", 13).put("groupname", "team")
        .put("groupdesc", "d");
    badIds(good, "userId", GroupCreate.class);
    assertEquals("", BusJson.fromJson(new JsonObject().put("userId", 13)
        .put("groupname", "team"), GroupCreate.class).groupdesc());
    for (Object bad : new Object[] {"", "  ", "g".repeat(65), "a\tb", 5}) {
      invalid(good.copy().put("groupname", bad), GroupCreate.class);
    }
    invalid(good.copy().put("groupdesc", "d".repeat(256)), GroupCreate.class);
    invalid(good.copy().put("groupdesc", "a\u0000b"), GroupCreate.class);
    invalid(good.copy().put("groupdesc", 3), GroupCreate.class);

    wire(new GroupRef(13, 5), new JsonObject().put("userId", 13).put("groupid", 5));
    badIds(new JsonObject().put("userId", 13).put("groupid", 5), "groupid", GroupRef.class);
    badIds(new JsonObject().put("userId", 13).put("groupid", 5), "userId", GroupRef.class);
    wire(new GroupRef.Members(List.of(13, 14)),
        new JsonObject().put("members", new JsonArray().add(13).add(14)));
  }

  @Test
  void offlinePageAndAck() {
    wire(new OfflinePage(13, 100), new JsonObject().put("userId", 13).put("limit", 100));
    wire(new OfflinePage(13, null), new JsonObject().put("userId", 13));
    assertEquals(OfflinePage.MAX_PAGE, new OfflinePage(13, null).served());
    assertEquals(OfflinePage.MAX_PAGE, new OfflinePage(13, Integer.MAX_VALUE).served());
    badIds(new JsonObject().put("userId", 13).put("limit", 3), "userId", OfflinePage.class);
    for (Object bad : new Object[] {0, -1, "3", 2.5}) {
      invalid(new JsonObject().put("userId", 13).put("limit", bad), OfflinePage.class);
    }
    OfflinePage.Reply page = new OfflinePage.Reply(
        List.of(new OfflinePage.Stored("n1-42", CHAT)), true);
    JsonObject pageJson = new JsonObject().put("messages", new JsonArray()
        .add(new JsonObject().put("msgno", "n1-42").put("message", CHAT))).put("more", true);
    wire(page, pageJson);
    assertEquals(pageJson, page.toJson());
    assertEquals(page, OfflinePage.Reply.fromJson(pageJson));
    assertEquals(new OfflinePage.Reply(List.of(), false),
        OfflinePage.Reply.fromJson(new JsonObject()));
    invalid(new JsonObject().put("messages", new JsonArray().add("m")),
        OfflinePage.Reply::fromJson);
    invalid(new JsonObject().put("messages", new JsonArray()
        .add(new JsonObject().put("msgno", "n1-42").put("message", "text"))),
        OfflinePage.Reply::fromJson);
    invalid(pageJson.copy().put("more", 1), OfflinePage.Reply::fromJson);

    wire(new OfflineAck(13, List.of("a", "b")),
        new JsonObject().put("userId", 13).put("msgnos", new JsonArray().add("a").add("b")));
    wire(new OfflineAck.Reply(2), new JsonObject().put("acked", 2));
    badIds(new JsonObject().put("userId", 13).put("msgnos", new JsonArray()), "userId",
        OfflineAck.class);
    invalid(new JsonObject().put("userId", 13), OfflineAck.class);
    invalid(new JsonObject().put("userId", 13).put("msgnos", "a"), OfflineAck.class);
    for (Object bad : new Object[] {3, "", "x".repeat(65)}) {
      invalid(new JsonObject().put("userId", 13).put("msgnos", new JsonArray().add(bad)),
          OfflineAck.class);
    }
    invalid(new JsonObject().put("userId", 13)
        .put("msgnos", new JsonArray(Collections.nCopies(OfflinePage.MAX_PAGE + 1, "m"))),
        OfflineAck.class);
  }

  @Test
  void history() {
    wire(new History(13, 14, null, "n1-42", 50), new JsonObject().put("userId", 13)
        .put("with", 14).put("before", "n1-42").put("limit", 50));
    wire(new History(13, null, 5, null, null),
        new JsonObject().put("userId", 13).put("groupid", 5));
    assertEquals(History.DEFAULT_LIMIT, new History(13, 14, null, null, null).served());
    assertEquals(History.MAX_LIMIT, new History(13, 14, null, null, 250).served());
    JsonObject good = new JsonObject().put("userId", 13).put("with", 14);
    badIds(good, "userId", History.class);
    for (Object bad : new Object[] {0, "14", 14.5}) {
      invalid(good.copy().put("with", bad), History.class);
    }
    invalid(new JsonObject().put("userId", 13), History.class);
    invalid(good.copy().put("groupid", 5), History.class);
    invalid(good.copy().put("limit", -1), History.class);
    invalid(good.copy().put("before", 12), History.class);
    invalid(good.copy().put("before", ""), History.class);
    History.Reply page = new History.Reply(List.of(CHAT, GROUP_CHAT), false);
    JsonObject pageJson = new JsonObject()
        .put("messages", new JsonArray().add(CHAT).add(GROUP_CHAT)).put("more", false);
    wire(page, pageJson);
    assertEquals(pageJson, page.toJson());
    assertEquals(page, History.Reply.fromJson(pageJson));
    invalid(new JsonObject().put("messages", new JsonArray().add(7)), History.Reply::fromJson);
    invalid(new JsonObject().put("messages", "m"), History.Reply::fromJson);
  }

  @Test
  void appendMapsItselfWithTheSameFields() {
    Append append = new Append(List.of(Append.Item.log(CHAT, List.of(14)),
        Append.Item.store(GROUP_CHAT, List.of(14, 15), true),
        new Append.Item(CHAT, List.of(), List.of(14), List.of(), false)));
    JsonObject json = new JsonObject().put("messages", new JsonArray()
        .add(new JsonObject().put("message", CHAT).put("to", new JsonArray().add(14)))
        .add(new JsonObject().put("message", GROUP_CHAT)
            .put("pending", new JsonArray().add(14).add(15)).put("refusable", true))
        .add(new JsonObject().put("message", CHAT).put("delivered", new JsonArray().add(14))));
    assertEquals(json, append.toJson());
    assertEquals(append, Append.fromJson(json));
    assertEquals(append, Append.fromJson(append.toJson()));
    // BusJson reads the same body into the same record
    assertEquals(append, BusJson.fromJson(json, Append.class));

    Append.Item item = append.messages().get(0);
    assertEquals("n1-42", item.msgno());
    assertEquals("u:13:14", item.conversation());
    assertEquals(13, item.sender());
    assertEquals("g:5", append.messages().get(1).conversation());

    Append.Reply reply = new Append.Reply(List.of(new Append.Result(List.of(14), List.of(15),
        List.of()), new Append.Result(List.of(), List.of(), List.of(16))));
    JsonObject replyJson = new JsonObject().put("results", new JsonArray()
        .add(new JsonObject().put("stored", new JsonArray().add(14))
            .put("full", new JsonArray().add(15)).put("missing", new JsonArray()))
        .add(new JsonObject().put("stored", new JsonArray()).put("full", new JsonArray())
            .put("missing", new JsonArray().add(16))));
    assertEquals(replyJson, reply.toJson());
    assertEquals(reply, Append.Reply.fromJson(replyJson));
    assertEquals(reply, BusJson.fromJson(replyJson, Append.Reply.class));
  }

  @Test
  void badAppendsAreInvalidInput() {
    Function<JsonObject, Append> read = Append::fromJson;
    JsonObject ok = new JsonObject().put("message", CHAT).put("pending", new JsonArray().add(14));
    Append.fromJson(new JsonObject().put("messages", new JsonArray().add(ok)));
    for (JsonObject bad : List.of(
        new JsonObject(),
        new JsonObject().put("messages", "no"),
        new JsonObject().put("messages", new JsonArray().add("no")),
        new JsonObject().put("messages", new JsonArray().add(new JsonObject())),
        items(ok.copy().put("message", "text")),
        items(ok.copy().put("message", CHAT.copy().put("msgno", 5))),
        items(ok.copy().put("message", CHAT.copy().put("msgno", "x".repeat(65)))),
        items(ok.copy().put("message", withoutMsgno())),
        items(ok.copy().put("message", CHAT.copy().put("msgid", 4))),
        items(ok.copy().put("message", CHAT.copy().put("toid", "14"))),
        items(ok.copy().put("message", CHAT.copy().put("toid", 0))),
        items(ok.copy().put("message", CHAT.copy().put("id", 13.5))),
        items(ok.copy().put("message", GROUP_CHAT.copy().put("groupid", 0))),
        items(ok.copy().put("pending", new JsonArray().add("7"))),
        items(ok.copy().put("pending", new JsonArray().add(0))),
        items(ok.copy().put("pending", new JsonArray().add(7.5))),
        items(ok.copy().put("to", new JsonArray().add(1L << 31))),
        items(ok.copy().put("delivered", "14")),
        items(ok.copy().put("refusable", "yes")),
        items(ok.copy().put("refusable", 1)))) {
      invalid(bad, read);
      invalid(bad, Append.class);
    }
    JsonArray tooMany = new JsonArray();
    for (int i = 0; i <= Append.MAX_MESSAGES; i++) {
      tooMany.add(ok);
    }
    invalid(new JsonObject().put("messages", tooMany), read);
    invalid(null, read);
    // built by a caller: refused before it is sent, the same way
    assertEquals(FailureCodes.INVALID_INPUT, assertThrows(ServiceFailure.class,
        () -> Append.Item.log(CHAT.copy().put("toid", 0), List.of(14))).code());
    invalid(new JsonObject().put("results", new JsonArray().add(new JsonObject()
        .put("stored", new JsonArray().add("14")))), Append.Reply::fromJson);
  }

  private static JsonObject items(JsonObject item) {
    return new JsonObject().put("messages", new JsonArray().add(item));
  }

  private static JsonObject withoutMsgno() {
    JsonObject chat = CHAT.copy();
    chat.remove("msgno");
    return chat;
  }
}
