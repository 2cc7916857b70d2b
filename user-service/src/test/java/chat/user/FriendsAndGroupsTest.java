package chat.user;

import static chat.protocol.bus.Addresses.USER_FRIEND_ADD;
import static chat.protocol.bus.Addresses.USER_FRIEND_LIST;
import static chat.protocol.bus.Addresses.USER_FRIEND_LISTS;
import static chat.protocol.bus.Addresses.USER_GROUP_CREATE;
import static chat.protocol.bus.Addresses.USER_GROUP_JOIN;
import static chat.protocol.bus.Addresses.USER_GROUP_MEMBERS;
import static chat.protocol.bus.Addresses.USER_LOGIN_DATA;
import static chat.protocol.bus.Addresses.USER_MESSAGE_APPEND;
import static chat.protocol.bus.Addresses.USER_OFFLINE_PAGE;
import static chat.protocol.bus.Addresses.USER_PROFILE;
import static chat.protocol.bus.Addresses.USER_REGISTER;
import static chat.protocol.bus.FailureCodes.INVALID_INPUT;
import static chat.protocol.bus.FailureCodes.NAME_TAKEN;
import static chat.protocol.bus.FailureCodes.NOT_A_MEMBER;
import static chat.protocol.bus.FailureCodes.NO_SUCH_GROUP;
import static chat.protocol.bus.FailureCodes.NO_SUCH_USER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import chat.protocol.bus.LocalRecords;
import chat.protocol.bus.user.FriendIds;
import chat.protocol.bus.user.FriendLists;
import chat.protocol.bus.user.UserRef;
import chat.user.repo.SchemaMigration;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Mutual friendships and groups: create, join, members, and their place in the profile (and in
 * chat.user.login.data, which answers as chat.user.profile.get and chat.user.offline.page).
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class FriendsAndGroupsTest {

  @RegisterExtension
  static final TestDatabase DB = new TestDatabase();

  private static final int NO_SUCH_ID = 999_999;

  private static BusClient bus;
  private static Vertx vertx;

  @BeforeAll
  static void deploy(Vertx vertx) {
    FriendsAndGroupsTest.vertx = vertx;
    SchemaMigration.migrate(DB.url());
    vertx.deployVerticle(new UserVerticle(TestConfigs.forDatabase(DB.url()))).await();
    bus = new BusClient(vertx);
  }

  private static String unique(String prefix) {
    return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  private static int register(String name) {
    return bus.request(USER_REGISTER, new JsonObject().put("name", name).put("password", "pw"))
        .getInteger("id");
  }

  private static JsonArray friendIds(int userId) {
    return bus.request(USER_FRIEND_LIST, new JsonObject().put("userId", userId))
        .getJsonArray("ids");
  }

  private static JsonObject befriend(int userId, int friendId) {
    return bus.request(USER_FRIEND_ADD,
        new JsonObject().put("userId", userId).put("friendId", friendId));
  }

  private static int createGroup(int userId, String name, String desc) {
    return bus.request(USER_GROUP_CREATE,
        new JsonObject().put("userId", userId).put("groupname", name).put("groupdesc", desc))
        .getInteger("groupid");
  }

  private static JsonArray members(int userId, int groupId) {
    return bus.request(USER_GROUP_MEMBERS,
        new JsonObject().put("userId", userId).put("groupid", groupId)).getJsonArray("members");
  }

  private static JsonObject profile(int userId) {
    return bus.request(USER_PROFILE, new JsonObject().put("userId", userId));
  }

  // ---- friends ----

  @Test
  void friendshipIsMutualAndTheReplyNamesBoth() {
    String aliceName = unique("alice");
    String bobName = unique("bob \uD83D\uDE00");
    int alice = register(aliceName);
    int bob = register(bobName);
    assertEquals(new JsonObject()
        .put("user", new JsonObject().put("id", alice).put("name", aliceName))
        .put("friend", new JsonObject().put("id", bob).put("name", bobName)),
        befriend(alice, bob));
    assertEquals(new JsonArray().add(bob), friendIds(alice));
    assertEquals(new JsonArray().add(alice), friendIds(bob));
  }

  @Test
  void theFriendsOfManyUsersComeInOneAnswer() {
    int alice = register(unique("alice"));
    int bob = register(unique("bob"));
    int carol = register(unique("carol"));
    int loner = register(unique("loner"));
    befriend(alice, bob);
    befriend(alice, carol);
    JsonObject reply = bus.request(USER_FRIEND_LISTS, new JsonObject()
        .put("userIds", new JsonArray().add(alice).add(bob).add(loner).add(alice)));
    assertEquals(new JsonArray()
        .add(new JsonObject().put("userId", alice).put("ids",
            new JsonArray().add(Math.min(bob, carol)).add(Math.max(bob, carol))))
        .add(new JsonObject().put("userId", bob).put("ids", new JsonArray().add(alice)))
        .add(new JsonObject().put("userId", loner).put("ids", new JsonArray())),
        reply.getJsonArray("lists"));
    bus.assertFails(INVALID_INPUT, USER_FRIEND_LISTS, new JsonObject().put("userIds", new JsonArray()));
  }

  @Test
  void presenceOfThisProcessHandsOverItsFriendLookupsAndGetsTheReplyRecordsBack() {
    int alice = register(unique("alice"));
    int bob = register(unique("bob"));
    befriend(alice, bob);
    LocalRecords.register(vertx.eventBus());
    Object lists = vertx.eventBus().request(USER_FRIEND_LISTS,
        new FriendLists(List.of(alice, bob)), LocalRecords.options(10_000)).await().body();
    assertEquals(new FriendLists.Reply(List.of(new FriendLists.Of(alice, List.of(bob)),
        new FriendLists.Of(bob, List.of(alice)))), lists);
    Object ids = vertx.eventBus().request(USER_FRIEND_LIST, new UserRef(alice),
        LocalRecords.options(10_000)).await().body();
    assertEquals(new FriendIds(List.of(bob)), ids);
  }

  @Test
  void addingAFriendAgainChangesNothing() throws Exception {
    int alice = register(unique("alice"));
    int bob = register(unique("bob"));
    JsonObject first = befriend(alice, bob);
    assertEquals(first, befriend(alice, bob));
    JsonObject reverse = befriend(bob, alice);
    assertEquals(first.getJsonObject("user"), reverse.getJsonObject("friend"));
    assertEquals(first.getJsonObject("friend"), reverse.getJsonObject("user"));
    assertEquals(new JsonArray().add(bob), friendIds(alice));
    assertEquals(new JsonArray().add(alice), friendIds(bob));
    Number rows = (Number) DB.queryValue(
        "SELECT COUNT(*) FROM friend WHERE userid IN (?, ?)", alice, bob);
    assertEquals(2, rows.intValue());
  }

  @Test
  void friendsAreListedInIdOrder() {
    int me = register(unique("me"));
    int a = register(unique("a"));
    int b = register(unique("b"));
    int c = register(unique("c"));
    befriend(me, c);
    befriend(a, me);
    befriend(me, b);
    assertEquals(new JsonArray().add(a).add(b).add(c), friendIds(me));
  }

  @Test
  void noFriendsIsAnEmptyList() {
    assertEquals(new JsonArray(), friendIds(register(unique("lonely"))));
  }

  @Test
  void befriendingOneselfOrNobodyIsRefused() {
    int alice = register(unique("alice"));
    bus.assertFails(INVALID_INPUT, USER_FRIEND_ADD,
        new JsonObject().put("userId", alice).put("friendId", alice));
    bus.assertFails(NO_SUCH_USER, USER_FRIEND_ADD,
        new JsonObject().put("userId", alice).put("friendId", NO_SUCH_ID));
    bus.assertFails(INVALID_INPUT, USER_FRIEND_ADD,
        new JsonObject().put("userId", alice).put("friendId", "2"));
    bus.assertFails(INVALID_INPUT, USER_FRIEND_ADD, new JsonObject().put("userId", alice));
    bus.assertFails(INVALID_INPUT, USER_FRIEND_LIST, new JsonObject());
    assertEquals(new JsonArray(), friendIds(alice));
  }

  @Test
  void simultaneousMutualAddsBothSucceed(Vertx vertx) {
    int alice = register(unique("alice"));
    int bob = register(unique("bob"));
    Future.all(
            vertx.eventBus().request(USER_FRIEND_ADD,
                new JsonObject().put("userId", alice).put("friendId", bob)),
            vertx.eventBus().request(USER_FRIEND_ADD,
                new JsonObject().put("userId", bob).put("friendId", alice)))
        .await();
    assertEquals(new JsonArray().add(bob), friendIds(alice));
    assertEquals(new JsonArray().add(alice), friendIds(bob));
  }

  @Test
  void profileListsFriendsWithNames() {
    String bobName = unique("b\"o'b \uD83D\uDE00");
    int alice = register(unique("alice"));
    int bob = register(bobName);
    befriend(alice, bob);
    JsonArray friends = profile(alice).getJsonArray("friends");
    assertEquals(new JsonArray().add(new JsonObject().put("id", bob).put("name", bobName)),
        friends);
  }

  // ---- groups ----

  @Test
  void creatorIsFirstMember() {
    int alice = register(unique("alice"));
    int group = createGroup(alice, unique("g"), "desc");
    assertTrue(group > 0);
    assertEquals(new JsonArray().add(alice), members(alice, group));
  }

  @Test
  void joinAddsMemberAndIsIdempotent() throws Exception {
    int alice = register(unique("alice"));
    int bob = register(unique("bob"));
    int group = createGroup(alice, unique("g"), "d");
    assertEquals(new JsonObject(), bus.request(USER_GROUP_JOIN,
        new JsonObject().put("userId", bob).put("groupid", group)));
    assertEquals(new JsonObject(), bus.request(USER_GROUP_JOIN,
        new JsonObject().put("userId", bob).put("groupid", group)));
    // the creator joining changes nothing either: still creator
    bus.request(USER_GROUP_JOIN, new JsonObject().put("userId", alice).put("groupid", group));
    assertEquals(new JsonArray().add(alice).add(bob), members(bob, group));
    assertEquals("creator", DB.queryValue(
        "SELECT grouprole FROM groupuser WHERE groupid = ? AND userid = ?", group, alice));
    assertEquals("normal", DB.queryValue(
        "SELECT grouprole FROM groupuser WHERE groupid = ? AND userid = ?", group, bob));
  }

  @Test
  void groupNamesAreUnique() {
    int alice = register(unique("alice"));
    int bob = register(unique("bob"));
    String name = unique("team");
    createGroup(alice, name, "first");
    String text = bus.assertFails(NAME_TAKEN, USER_GROUP_CREATE,
        new JsonObject().put("userId", bob).put("groupname", name).put("groupdesc", "second"));
    assertTrue(text.contains("taken"), text);
  }

  @Test
  void groupWithQuotesAndEmojiRoundTrips() {
    int alice = register(unique("alice"));
    String name = unique("it's \"the\" \\ \uD83C\uDF89");
    String desc = "line one\nline two \u00E9\u00E8 \uD83D\uDE80 ' \" \\";
    int group = createGroup(alice, name, desc);
    JsonObject g = profile(alice).getJsonArray("groups").getJsonObject(0);
    assertEquals(group, g.getInteger("id"));
    assertEquals(name, g.getString("groupname"));
    assertEquals(desc, g.getString("groupdesc"));
  }

  @Test
  void invalidGroupsAreRefused() {
    int alice = register(unique("alice"));
    for (Object bad : new Object[] {"", "  ", "g".repeat(65), "a\tb", 5}) {
      bus.assertFails(INVALID_INPUT, USER_GROUP_CREATE,
          new JsonObject().put("userId", alice).put("groupname", bad).put("groupdesc", "d"));
    }
    bus.assertFails(INVALID_INPUT, USER_GROUP_CREATE, new JsonObject().put("userId", alice)
        .put("groupname", unique("g")).put("groupdesc", "d".repeat(256)));
    bus.assertFails(INVALID_INPUT, USER_GROUP_CREATE, new JsonObject().put("userId", alice)
        .put("groupname", unique("g")).put("groupdesc", 3));
    bus.assertFails(INVALID_INPUT, USER_GROUP_CREATE,
        new JsonObject().put("groupname", unique("g")).put("groupdesc", "d"));
    bus.assertFails(INVALID_INPUT, USER_GROUP_JOIN, new JsonObject().put("userId", alice));
    bus.assertFails(INVALID_INPUT, USER_GROUP_MEMBERS,
        new JsonObject().put("userId", alice).put("groupid", "1"));
  }

  @Test
  void groupOfUnknownCreatorLeavesNothingBehind() throws Exception {
    String name = unique("orphan");
    bus.assertFails(NO_SUCH_USER, USER_GROUP_CREATE, new JsonObject()
        .put("userId", NO_SUCH_ID).put("groupname", name).put("groupdesc", "d"));
    assertNull(DB.queryValue("SELECT id FROM allgroup WHERE groupname = ?", name));
    createGroup(register(unique("real")), name, "the name is still free");
  }

  @Test
  void unknownGroupIsNoSuchGroup() {
    int alice = register(unique("alice"));
    bus.assertFails(NO_SUCH_GROUP, USER_GROUP_JOIN,
        new JsonObject().put("userId", alice).put("groupid", NO_SUCH_ID));
    bus.assertFails(NO_SUCH_GROUP, USER_GROUP_MEMBERS,
        new JsonObject().put("userId", alice).put("groupid", NO_SUCH_ID));
  }

  @Test
  void unknownUserJoiningIsNoSuchUser() {
    int group = createGroup(register(unique("alice")), unique("g"), "d");
    bus.assertFails(NO_SUCH_USER, USER_GROUP_JOIN,
        new JsonObject().put("userId", NO_SUCH_ID).put("groupid", group));
  }

  @Test
  void onlyMembersMaySeeMembers() {
    int alice = register(unique("alice"));
    int mallory = register(unique("mallory"));
    int group = createGroup(alice, unique("g"), "d");
    bus.assertFails(NOT_A_MEMBER, USER_GROUP_MEMBERS,
        new JsonObject().put("userId", mallory).put("groupid", group));
  }

  @Test
  void profileListsGroupsWithMembersAndRoles() {
    String aliceName = unique("alice");
    String bobName = unique("bob");
    int alice = register(aliceName);
    int bob = register(bobName);
    int carol = register(unique("carol"));
    String g1 = unique("g1");
    String g2 = unique("g2");
    int first = createGroup(alice, g1, "one");
    int second = createGroup(bob, g2, "");
    bus.request(USER_GROUP_JOIN, new JsonObject().put("userId", bob).put("groupid", first));
    createGroup(carol, unique("not-bobs"), "x");

    JsonObject expected = new JsonObject()
        .put("friends", new JsonArray())
        .put("groups", new JsonArray()
            .add(new JsonObject().put("id", first).put("groupname", g1).put("groupdesc", "one")
                .put("users", new JsonArray()
                    .add(new JsonObject().put("id", alice).put("name", aliceName)
                        .put("role", "creator"))
                    .add(new JsonObject().put("id", bob).put("name", bobName)
                        .put("role", "normal"))))
            .add(new JsonObject().put("id", second).put("groupname", g2).put("groupdesc", "")
                .put("users", new JsonArray()
                    .add(new JsonObject().put("id", bob).put("name", bobName)
                        .put("role", "creator")))));
    assertEquals(expected, profile(bob));
  }

  @Test
  void groupdescMayBeLeftOut() {
    int alice = register(unique("alice"));
    int group = bus.request(USER_GROUP_CREATE,
        new JsonObject().put("userId", alice).put("groupname", unique("nodesc")))
        .getInteger("groupid");
    assertEquals("", profile(alice).getJsonArray("groups").getJsonObject(0).getString("groupdesc"));
    assertEquals(new JsonArray().add(alice), members(alice, group));
  }

  private static void join(int userId, int groupId) {
    bus.request(USER_GROUP_JOIN, new JsonObject().put("userId", userId).put("groupid", groupId));
  }

  /** A chat from one user to another, stored pending (or as delivered) for the recipient. */
  private static void chat(int from, int to, String text, boolean pending) {
    JsonObject message = new JsonObject().put("msgid", 6).put("id", from).put("toid", to)
        .put("msg", text).put("msgno", UUID.randomUUID().toString());
    JsonArray none = new JsonArray();
    JsonArray recipient = new JsonArray().add(to);
    bus.request(USER_MESSAGE_APPEND, new JsonObject().put("messages", new JsonArray()
        .add(new JsonObject().put("message", message)
            .put("pending", pending ? recipient : none)
            .put("delivered", pending ? none : recipient))));
  }

  private static JsonObject loginData(int userId, int limit) {
    return bus.request(USER_LOGIN_DATA, new JsonObject().put("userId", userId).put("limit", limit));
  }

  private static JsonObject separately(int userId, int limit) {
    return new JsonObject()
        .put("profile", profile(userId))
        .put("offline", bus.request(USER_OFFLINE_PAGE,
            new JsonObject().put("userId", userId).put("limit", limit)));
  }

  // ---- chat.user.login.data: the profile and the first stored messages of a LOGIN ack ----

  @Test
  void theProfileAndTheFirstPageComeTogetherAsEachAlone() {
    int alice = register(unique("alice \uD83D\uDE00"));
    int bob = register(unique("bob"));
    int carol = register(unique("carol"));
    int dave = register(unique("dave"));
    befriend(alice, carol);
    befriend(alice, bob);
    int first = createGroup(carol, unique("g1"), "a \"quoted\" description");
    join(alice, first);
    join(dave, first);
    int second = createGroup(alice, unique("g2"), "");
    join(bob, second);
    for (int i = 0; i < 3; i++) {
      chat(bob, alice, "stored " + i, true);
    }
    chat(carol, alice, "had it live", false);
    chat(carol, alice, "stored last", true);

    for (int limit : List.of(1, 3, 4, 5, 100)) {
      assertEquals(separately(alice, limit), loginData(alice, limit), "limit " + limit);
    }
    JsonObject data = loginData(alice, 3);
    JsonObject profile = data.getJsonObject("profile");
    assertEquals(2, profile.getJsonArray("friends").size());
    assertEquals(2, profile.getJsonArray("groups").size());
    assertEquals(3, profile.getJsonArray("groups").getJsonObject(0).getJsonArray("users").size());
    assertEquals(3, data.getJsonObject("offline").getJsonArray("messages").size());
    assertTrue(data.getJsonObject("offline").getBoolean("more"));
    assertEquals(List.of("stored 0", "stored 1", "stored 2", "stored last"),
        loginData(alice, 100).getJsonObject("offline").getJsonArray("messages").stream()
            .map(m -> ((JsonObject) m).getJsonObject("message").getString("msg")).toList());
    // the others, seen from their side
    for (int user : List.of(bob, carol, dave)) {
      assertEquals(separately(user, 10), loginData(user, 10));
    }
  }

  @Test
  void loginDataOfAUserWithNothingHasEmptyLists() {
    int loner = register(unique("loner"));
    JsonObject data = loginData(loner, 10);
    assertEquals(separately(loner, 10), data);
    assertEquals(new JsonArray(), data.getJsonObject("profile").getJsonArray("friends"));
    assertEquals(new JsonArray(), data.getJsonObject("profile").getJsonArray("groups"));
    assertEquals(new JsonArray(), data.getJsonObject("offline").getJsonArray("messages"));
    assertEquals(false, data.getJsonObject("offline").getBoolean("more"));
  }

  /**
   * The groups and the stored messages are read only when the first statement finds some:
   * each alone, and each added after an empty read, is in the login data.
   */
  @Test
  void loginDataHasEachPartAloneAndWhatCameAfterAnEmptyRead() {
    int withFriend = register(unique("friendly"));
    int friend = register(unique("friend"));
    befriend(withFriend, friend);
    int inGroup = register(unique("member"));
    int group = createGroup(inGroup, unique("g"), "d");
    int waiting = register(unique("waiting"));
    chat(friend, waiting, "kept for later", true);
    for (int user : List.of(withFriend, inGroup, waiting, friend)) {
      assertEquals(separately(user, 10), loginData(user, 10), "user " + user);
    }
    assertEquals(1, loginData(withFriend, 10).getJsonObject("profile").getJsonArray("friends")
        .size());
    assertEquals(1, loginData(inGroup, 10).getJsonObject("profile").getJsonArray("groups")
        .size());
    assertEquals(1, loginData(waiting, 10).getJsonObject("offline").getJsonArray("messages")
        .size());

    int late = register(unique("late"));
    assertEquals(separately(late, 10), loginData(late, 10));
    join(late, group);
    chat(friend, late, "stored after", true);
    JsonObject data = loginData(late, 10);
    assertEquals(separately(late, 10), data);
    assertEquals(1, data.getJsonObject("profile").getJsonArray("groups").size());
    assertEquals(2, data.getJsonObject("profile").getJsonArray("groups").getJsonObject(0)
        .getJsonArray("users").size());
    assertEquals(List.of("stored after"), data.getJsonObject("offline").getJsonArray("messages")
        .stream().map(m -> ((JsonObject) m).getJsonObject("message").getString("msg")).toList());
  }

  @Test
  void loginDataRefusesBadRequests() {
    bus.assertFails(INVALID_INPUT, USER_LOGIN_DATA, new JsonObject().put("userId", 0));
    bus.assertFails(INVALID_INPUT, USER_LOGIN_DATA,
        new JsonObject().put("userId", 5).put("limit", 0));
    bus.assertFails(INVALID_INPUT, USER_LOGIN_DATA, new JsonObject().put("userId", "5"));
  }
}
