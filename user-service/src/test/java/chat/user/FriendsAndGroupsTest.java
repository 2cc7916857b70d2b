package chat.user;

import static chat.protocol.bus.Addresses.USER_FRIEND_ADD;
import static chat.protocol.bus.Addresses.USER_FRIEND_LIST;
import static chat.protocol.bus.Addresses.USER_FRIEND_LISTS;
import static chat.protocol.bus.Addresses.USER_GROUP_CREATE;
import static chat.protocol.bus.Addresses.USER_GROUP_JOIN;
import static chat.protocol.bus.Addresses.USER_GROUP_MEMBERS;
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

import chat.user.repo.SchemaMigration;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Mutual friendships and groups: create, join, members, and their place in the profile. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class FriendsAndGroupsTest {

  @RegisterExtension
  static final TestDatabase DB = new TestDatabase();

  private static final int NO_SUCH_ID = 999_999;

  private static BusClient bus;

  @BeforeAll
  static void deploy(Vertx vertx) {
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
}
