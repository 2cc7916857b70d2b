package chat.user;

import chat.protocol.bus.Addresses;
import chat.protocol.bus.BusFields;
import chat.protocol.bus.FailureCodes;
import chat.protocol.bus.ServiceFailure;
import chat.protocol.config.DbUrl;
import chat.user.repo.MessageStore.Append;
import chat.user.repo.MessageStore.AppendResult;
import chat.user.repo.MessageStore.Pending;
import chat.user.repo.MessageStore;
import chat.user.repo.UserRepository.Account;
import chat.user.repo.UserRepository.Group;
import chat.user.repo.UserRepository;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.mysqlclient.MySQLException;
import io.vertx.sqlclient.ClosedConnectionException;
import io.vertx.sqlclient.Pool;
import java.io.IOException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The user service: accounts, resume tokens, friends, groups, the message log (stored messages
 * and history) and its retention, served on
 * the {@code chat.user.*} addresses of {@link Addresses}. Every reply is a JSON object; every
 * refusal is {@code fail(code, text)} with a code of {@link FailureCodes}.
 *
 * <p>The database schema must be in place ({@link chat.user.repo.SchemaMigration}) before this
 * verticle is deployed. Any number of instances, on any number of nodes, may run at once.
 */
public final class UserVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(UserVerticle.class);

  public static final int MAX_NAME_LENGTH = 64;
  public static final int MAX_PASSWORD_LENGTH = UserConfig.MAX_PASSWORD_LENGTH;
  public static final int MAX_GROUP_DESC_LENGTH = 255;
  /** Messages larger than this (encoded JSON, UTF-16 units) are refused. */
  public static final int MAX_MESSAGE_LENGTH = 1 << 20;
  /** msgno values are at most this long (the log column). */
  public static final int MAX_MSGNO_LENGTH = 64;
  /** Messages in one append call, and user ids named in one call (all messages), at most. */
  public static final int MAX_APPEND_MESSAGES = 1_000;
  public static final int MAX_APPEND_USERS = 1_000_000;
  /** Pending messages per page, and msgnos per acknowledgement, at most. */
  public static final int MAX_PAGE = 10_000;
  public static final int DEFAULT_HISTORY_LIMIT = 50;
  public static final int MAX_HISTORY_LIMIT = 200;
  /** The retention job runs this long after start, then at this interval. */
  static final Duration RETENTION_FIRST_RUN = Duration.ofSeconds(30);
  static final Duration RETENTION_INTERVAL = Duration.ofMinutes(5);

  private static final String LOCAL_MAP = "chat.user.service";
  private static final String RETENTION_OWNER = "retention-owner";

  static final String TOKEN_SECRET_NAME = "resume-token";
  private static final String BAD_CREDENTIALS_TEXT = "invalid id or password";

  /** MySQL/MariaDB errors that mean "the database cannot serve now" rather than a bug. */
  private static final Set<Integer> UNAVAILABLE_ERRORS = Set.of(
      1040 /* too many connections */, 1045 /* access denied */, 1049 /* unknown database */,
      1053 /* shutdown in progress */, 1205 /* lock wait timeout */, 1213 /* deadlock */,
      1927 /* connection killed */);

  private final UserConfig config;
  private final Clock clock;

  private UserRepository repo;
  private MessageStore messages;
  private PasswordExecutor passwords;
  private PasswordHasher hasher;
  private TokenService tokens;
  private final String instanceId = UUID.randomUUID().toString();
  private Pool retentionPool;
  private long retentionTimer = -1;

  public UserVerticle(UserConfig config) {
    this(config, Clock.systemUTC());
  }

  /** With the clock used for token issue, expiry and revocation times. */
  public UserVerticle(UserConfig config, Clock clock) {
    this.config = config;
    this.clock = clock;
  }

  @Override
  public Future<?> start() {
    repo = new UserRepository(
        UserRepository.createPool(vertx, DbUrl.parse(config.dbUrl()), config.poolSize()));
    messages = new MessageStore(repo.pool());
    passwords = PasswordExecutor.acquire(vertx, config.passwordThreads(), config.passwordQueue());
    hasher = new PasswordHasher(vertx, config.passwordIterations(), passwords);
    return tokenSecret()
        .map(secret -> tokens = new TokenService(
            secret, Duration.ofSeconds(config.tokenTtlSeconds()), clock))
        .compose(ignored -> registerConsumers())
        .onSuccess(ignored -> {
          startRetention();
          LOG.info("User service started ({})", config);
        })
        .recover(err -> {
          LOG.error("User service failed to start: {}", err.toString());
          return stop().transform(ignored -> Future.failedFuture(err));
        });
  }

  @Override
  public Future<?> stop() {
    if (retentionTimer >= 0) {
      vertx.cancelTimer(retentionTimer);
      vertx.sharedData().getLocalMap(LOCAL_MAP).removeIfPresent(RETENTION_OWNER, instanceId);
    }
    if (passwords != null) {
      passwords.release(vertx);
      passwords = null;
    }
    Future<Void> retentionClosed = retentionPool == null
        ? Future.succeededFuture() : retentionPool.close();
    return repo == null ? retentionClosed : Future.join(retentionClosed, repo.close());
  }

  /** One instance per node runs the retention job (it is idempotent, so nodes need not agree). */
  private void startRetention() {
    Object owner = vertx.sharedData().getLocalMap(LOCAL_MAP)
        .putIfAbsent(RETENTION_OWNER, instanceId);
    if (owner != null) {
      return;
    }
    retentionPool = UserRepository.createPool(vertx, DbUrl.parse(config.dbUrl()), 1,
        "user-retention");
    MessageRetention retention = new MessageRetention(new MessageStore(retentionPool), clock,
        config.historyDays());
    boolean[] running = {false};
    retentionTimer = vertx.setPeriodic(RETENTION_FIRST_RUN.toMillis(),
        RETENTION_INTERVAL.toMillis(), id -> {
          if (running[0]) {
            return;
          }
          running[0] = true;
          retention.runOnce()
              .onComplete(ar -> running[0] = false)
              .onSuccess(n -> {
                if (n > 0) {
                  LOG.info("Retention deleted {} message(s) older than {} day(s)", n,
                      config.historyDays());
                }
              })
              .onFailure(err -> LOG.warn("Retention run failed: {}", err.toString()));
        });
  }

  private Future<String> tokenSecret() {
    if (config.tokenSecret() != null) {
      return Future.succeededFuture(config.tokenSecret());
    }
    byte[] candidate = new byte[32];
    new SecureRandom().nextBytes(candidate);
    return repo.clusterSecret(TOKEN_SECRET_NAME,
        Base64.getUrlEncoder().withoutPadding().encodeToString(candidate));
  }

  private Future<?> registerConsumers() {
    return Future.all(List.of(
        consume(Addresses.USER_REGISTER, this::register),
        consume(Addresses.USER_LOGIN, this::login),
        consume(Addresses.USER_LOGOUT, this::logout),
        consume(Addresses.USER_PROFILE, this::profile),
        consume(Addresses.USER_MESSAGE_APPEND, this::append),
        consume(Addresses.USER_OFFLINE_PAGE, this::offlinePage),
        consume(Addresses.USER_OFFLINE_ACK, this::offlineAck),
        consume(Addresses.USER_HISTORY, this::history),
        consume(Addresses.USER_FRIEND_ADD, this::addFriend),
        consume(Addresses.USER_FRIEND_LIST, this::listFriends),
        consume(Addresses.USER_GROUP_CREATE, this::createGroup),
        consume(Addresses.USER_GROUP_JOIN, this::joinGroup),
        consume(Addresses.USER_GROUP_MEMBERS, this::groupMembers),
        consume(Addresses.USER_PING, this::ping)));
  }

  private Future<Void> consume(String address, Function<JsonObject, Future<JsonObject>> handler) {
    EventBus bus = vertx.eventBus();
    return bus.<Object>consumer(address, msg -> serve(address, msg, handler)).completion();
  }

  /** The edge: runs one handler and turns its outcome into exactly one reply. */
  private void serve(String address, Message<Object> msg,
      Function<JsonObject, Future<JsonObject>> handler) {
    Future<JsonObject> result;
    try {
      Object body = msg.body();
      if (body != null && !(body instanceof JsonObject)) {
        throw BusFields.invalid("the request body must be a JSON object");
      }
      result = handler.apply(body == null ? new JsonObject() : (JsonObject) body);
    } catch (RuntimeException e) {
      result = Future.failedFuture(e);
    }
    result.onComplete(
        msg::reply,
        err -> replyFailure(address, msg, err));
  }

  private static void replyFailure(String address, Message<Object> msg, Throwable err) {
    if (err instanceof ServiceFailure e) {
      LOG.debug("{} refused: {} {}", address, e.code(), e.getMessage());
      msg.fail(e.code(), e.getMessage());
    } else if (isUnavailable(err)) {
      LOG.warn("{} failed, database unavailable: {}", address, err.toString());
      msg.fail(FailureCodes.DATABASE_UNAVAILABLE, "database unavailable");
    } else {
      LOG.error("{} failed", address, err);
      msg.fail(FailureCodes.INTERNAL, "internal error");
    }
  }

  static boolean isUnavailable(Throwable err) {
    for (Throwable t = err; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof MySQLException e) {
        return UNAVAILABLE_ERRORS.contains(e.getErrorCode());
      }
      if (t instanceof IOException || t instanceof ClosedConnectionException
          || t instanceof TimeoutException) {
        return true;
      }
    }
    // the pool reports connection failures (refused, reset, closed) as plain VertxExceptions
    // wrapping one of the above; anything else is a bug, not an outage
    return false;
  }

  // ---- accounts ----

  private Future<JsonObject> register(JsonObject body) {
    String name = BusFields.name(body, "name", MAX_NAME_LENGTH);
    String password = BusFields.password(body, "password", MAX_PASSWORD_LENGTH);
    if (password.codePointCount(0, password.length()) < config.passwordMinLength()) {
      throw BusFields.invalid("password too short");
    }
    if (!passwords.tryAdmit()) {
      return Future.failedFuture(overloaded());
    }
    // admitted: from here the registration runs to its end and is answered
    return hasher.hash(password)
        .onComplete(ar -> passwords.done())
        .compose(hash -> repo.insertUser(name, hash))
        .map(id -> {
          LOG.info("Registered userId={}", id);
          return new JsonObject().put("id", id);
        });
  }

  private Future<JsonObject> login(JsonObject body) {
    Integer id = BusFields.optionalId(body, "id");
    String name = id == null ? BusFields.string(body, "name").strip() : null;
    String password = BusFields.optionalString(body, "password");
    String token = password == null ? BusFields.string(body, "token") : null;
    if (password != null && password.length() > 2 * MAX_PASSWORD_LENGTH) {
      // longer than any registered password can be: no need to spend a hash on it
      return Future.failedFuture(badCredentials());
    }
    if (token != null) {
      // never near the password threads
      return account(id, name).compose(found -> checkToken(found, token)).map(this::loggedIn);
    }
    if (!passwords.tryAdmit()) {
      return Future.failedFuture(overloaded());
    }
    return account(id, name)
        .compose(found -> checkPassword(found, password))
        .onComplete(ar -> passwords.done())
        .map(this::loggedIn);
  }

  private Future<Optional<Account>> account(Integer id, String name) {
    return id != null ? repo.findById(id) : repo.findByName(name);
  }

  private static ServiceFailure overloaded() {
    return new ServiceFailure(FailureCodes.OVERLOADED, "password checks are at capacity");
  }

  private Future<Account> checkPassword(Optional<Account> account, String password) {
    if (account.isEmpty()) {
      // as slow as a real check, so response times do not tell which ids exist
      return hasher.hash(password).compose(ignored -> Future.failedFuture(badCredentials()));
    }
    return hasher.verify(password, account.get().passwordHash())
        .compose(ok -> ok ? Future.succeededFuture(account.get())
            : Future.failedFuture(badCredentials()));
  }

  private Future<Account> checkToken(Optional<Account> account, String token) {
    return account
        .filter(a -> tokens.accepts(token, a.id(), a.tokensRevokedAt()))
        .map(Future::succeededFuture)
        .orElseGet(() -> Future.failedFuture(badCredentials()));
  }

  private JsonObject loggedIn(Account account) {
    String token = tokens.issue(account.id(), tokens.issueTime(account.tokensRevokedAt()));
    LOG.debug("Credentials accepted for userId={}", account.id());
    return new JsonObject()
        .put("id", account.id())
        .put("name", account.name())
        .put("token", token);
  }

  private static ServiceFailure badCredentials() {
    return new ServiceFailure(FailureCodes.BAD_CREDENTIALS, BAD_CREDENTIALS_TEXT);
  }

  private Future<JsonObject> logout(JsonObject body) {
    int userId = BusFields.id(body, "userId");
    return repo.revokeTokens(userId, tokens.now())
        .map(found -> {
          LOG.debug("Tokens revoked for userId={} (found={})", userId, found);
          return new JsonObject();
        });
  }

  // ---- profile ----

  private Future<JsonObject> profile(JsonObject body) {
    int userId = BusFields.id(body, "userId");
    var friends = repo.friends(userId);
    var groups = repo.groupsOf(userId);
    return Future.all(friends, groups)
        .map(all -> profileJson(friends.result(), groups.result()));
  }

  private static JsonObject profileJson(List<UserRepository.Friend> friends, List<Group> groups) {
    JsonArray friendsJson = new JsonArray();
    friends.forEach(f -> friendsJson.add(new JsonObject().put("id", f.id()).put("name", f.name())));
    JsonArray groupsJson = new JsonArray();
    for (Group g : groups) {
      JsonArray users = new JsonArray();
      g.users().forEach(m -> users.add(
          new JsonObject().put("id", m.id()).put("name", m.name()).put("role", m.role())));
      groupsJson.add(new JsonObject()
          .put("id", g.id())
          .put("groupname", g.groupname())
          .put("groupdesc", g.groupdesc())
          .put("users", users));
    }
    return new JsonObject().put("friends", friendsJson).put("groups", groupsJson);
  }

  // ---- message log: append, pending pages, acknowledgement, history ----

  private Future<JsonObject> append(JsonObject body) {
    JsonArray items = BusFields.array(body, "messages");
    if (items.size() > MAX_APPEND_MESSAGES) {
      throw BusFields.invalid("at most " + MAX_APPEND_MESSAGES + " messages per append");
    }
    List<Append> appends = new ArrayList<>(items.size());
    int users = 0;
    for (Object entry : items) {
      if (!(entry instanceof JsonObject item)) {
        throw BusFields.invalid("messages must hold JSON objects");
      }
      JsonObject message = BusFields.object(item, "message");
      String msgno = BusFields.token(message, "msgno", MAX_MSGNO_LENGTH);
      String encoded = message.encode();
      if (encoded.length() > MAX_MESSAGE_LENGTH) {
        throw BusFields.invalid("message too large");
      }
      List<Integer> pending = BusFields.ids(item, "pending");
      List<Integer> delivered = BusFields.ids(item, "delivered");
      List<Integer> to = BusFields.ids(item, "to");
      Object refusable = item.getValue("refusable");
      if (refusable != null && !(refusable instanceof Boolean)) {
        throw BusFields.invalid("refusable must be true or false");
      }
      users += pending.size() + delivered.size() + to.size();
      if (users > MAX_APPEND_USERS) {
        throw BusFields.invalid("at most " + MAX_APPEND_USERS + " users per append");
      }
      appends.add(new Append(msgno, conversationOf(message), BusFields.id(message, "id"), encoded,
          pending, delivered, to, Boolean.TRUE.equals(refusable)));
    }
    return messages.append(appends, clock.millis(), config.historyDays() > 0, config.offlineMax())
        .map(results -> {
          JsonArray json = new JsonArray();
          for (AppendResult r : results) {
            json.add(new JsonObject()
                .put("stored", new JsonArray(r.stored()))
                .put("full", new JsonArray(r.full()))
                .put("missing", new JsonArray(r.missing())));
          }
          return new JsonObject().put("results", json);
        });
  }

  /** The conversation of a chat: "u:<low>:<high>" for ONE_CHAT (6), "g:<groupid>" for 10. */
  static String conversationOf(JsonObject message) {
    Object msgid = message.getValue("msgid");
    if (Integer.valueOf(6).equals(msgid)) {
      int from = BusFields.id(message, "id");
      int to = BusFields.id(message, "toid");
      return oneToOne(from, to);
    }
    if (Integer.valueOf(10).equals(msgid)) {
      BusFields.id(message, "id");
      return "g:" + BusFields.id(message, "groupid");
    }
    throw BusFields.invalid("only chats (msgid 6 or 10) are stored");
  }

  private static String oneToOne(int a, int b) {
    return "u:" + Math.min(a, b) + ":" + Math.max(a, b);
  }

  private Future<JsonObject> offlinePage(JsonObject body) {
    int userId = BusFields.id(body, "userId");
    int limit = Math.min(BusFields.positiveInt(body, "limit", MAX_PAGE), MAX_PAGE);
    return messages.pendingPage(userId, limit).map(page -> {
      JsonArray json = new JsonArray();
      for (Pending p : page.items()) {
        json.add(new JsonObject().put("msgno", p.msgno()).put("message", new JsonObject(p.body())));
      }
      return new JsonObject().put("messages", json).put("more", page.more());
    });
  }

  private Future<JsonObject> offlineAck(JsonObject body) {
    int userId = BusFields.id(body, "userId");
    JsonArray list = BusFields.array(body, "msgnos");
    if (list.size() > MAX_PAGE) {
      throw BusFields.invalid("at most " + MAX_PAGE + " msgnos per acknowledgement");
    }
    Set<String> msgnos = new LinkedHashSet<>();
    for (Object value : list) {
      if (!(value instanceof String msgno) || msgno.isEmpty()
          || msgno.length() > MAX_MSGNO_LENGTH) {
        throw BusFields.invalid("msgnos must hold msgno strings");
      }
      msgnos.add(msgno);
    }
    return messages.ack(userId, msgnos).map(n -> new JsonObject().put("acked", n));
  }

  private Future<JsonObject> history(JsonObject body) {
    int userId = BusFields.id(body, "userId");
    Integer with = BusFields.optionalId(body, "with");
    Integer groupId = BusFields.optionalId(body, "groupid");
    if ((with == null) == (groupId == null)) {
      throw BusFields.invalid("exactly one of with and groupid is required");
    }
    String before = body.getValue("before") == null
        ? null : BusFields.token(body, "before", MAX_MSGNO_LENGTH);
    int limit = Math.min(
        BusFields.nonNegativeInt(body, "limit", DEFAULT_HISTORY_LIMIT), MAX_HISTORY_LIMIT);
    Future<String> conv = with != null
        ? messages.userExists(with).compose(exists -> exists
            ? Future.succeededFuture(oneToOne(userId, with))
            : Future.failedFuture(
                new ServiceFailure(FailureCodes.NO_SUCH_USER, "no such user")))
        : memberOf(userId, groupId).map("g:" + groupId);
    return conv.compose(c -> {
      if (config.historyDays() == 0) {
        return Future.succeededFuture(new MessageStore.Page<String>(List.of(), false));
      }
      Future<Long> beforeId = before == null
          ? Future.succeededFuture(Long.MAX_VALUE)
          : messages.messageId(before, c).compose(found -> found
              .map(Future::succeededFuture)
              .orElseGet(() -> Future.failedFuture(new ServiceFailure(
                  FailureCodes.NO_SUCH_MESSAGE, "no such message in this conversation"))));
      return beforeId.compose(id -> messages.history(c, id,
          MessageRetention.windowStart(clock, config.historyDays()), limit));
    }).map(page -> {
      JsonArray json = new JsonArray();
      page.items().forEach(m -> json.add(new JsonObject(m)));
      return new JsonObject().put("messages", json).put("more", page.more());
    });
  }

  // ---- friends ----

  private Future<JsonObject> addFriend(JsonObject body) {
    int userId = BusFields.id(body, "userId");
    int friendId = BusFields.id(body, "friendId");
    if (userId == friendId) {
      throw BusFields.invalid("cannot befriend oneself");
    }
    return repo.addFriendship(userId, friendId)
        .compose(ignored -> Future.all(repo.findById(userId), repo.findById(friendId)))
        .map(both -> new JsonObject()
            .put("user", nameCard(both.resultAt(0)))
            .put("friend", nameCard(both.resultAt(1))));
  }

  private static JsonObject nameCard(Optional<Account> account) {
    // both exist: the friendship was just stored with foreign keys to them
    Account a = account.orElseThrow();
    return new JsonObject().put("id", a.id()).put("name", a.name());
  }

  private Future<JsonObject> listFriends(JsonObject body) {
    int userId = BusFields.id(body, "userId");
    return repo.friendIds(userId).map(ids -> new JsonObject().put("ids", new JsonArray(ids)));
  }

  // ---- groups ----

  private Future<JsonObject> createGroup(JsonObject body) {
    int userId = BusFields.id(body, "userId");
    String groupname = BusFields.name(body, "groupname", MAX_NAME_LENGTH);
    String groupdesc = BusFields.text(body, "groupdesc", MAX_GROUP_DESC_LENGTH);
    return repo.createGroup(userId, groupname, groupdesc)
        .map(groupId -> {
          LOG.info("Group created groupId={} by userId={}", groupId, userId);
          return new JsonObject().put("groupid", groupId);
        });
  }

  private Future<JsonObject> joinGroup(JsonObject body) {
    int userId = BusFields.id(body, "userId");
    int groupId = BusFields.id(body, "groupid");
    return repo.joinGroup(userId, groupId).map(ignored -> new JsonObject());
  }

  private Future<JsonObject> groupMembers(JsonObject body) {
    int userId = BusFields.id(body, "userId");
    int groupId = BusFields.id(body, "groupid");
    return memberOf(userId, groupId)
        .map(members -> new JsonObject().put("members", new JsonArray(members)));
  }

  /** The group's member ids; fails NO_SUCH_GROUP, or NOT_A_MEMBER when the user is not one. */
  private Future<List<Integer>> memberOf(int userId, int groupId) {
    return repo.groupMemberIds(groupId).compose(members -> {
      if (members.isEmpty()) {
        return Future.failedFuture(
            new ServiceFailure(FailureCodes.NO_SUCH_GROUP, "no such group"));
      }
      if (!members.get().contains(userId)) {
        return Future.failedFuture(
            new ServiceFailure(FailureCodes.NOT_A_MEMBER, "not a member of the group"));
      }
      return Future.succeededFuture(members.get());
    });
  }

  private Future<JsonObject> ping(JsonObject body) {
    return repo.ping().map(ignored -> new JsonObject());
  }
}
