package chat.user;

import chat.protocol.bus.Addresses;
import chat.protocol.bus.BusFields;
import chat.protocol.bus.BusJson;
import chat.protocol.bus.FailureCodes;
import chat.protocol.bus.LocalRecords;
import chat.protocol.bus.ServiceFailure;
import chat.protocol.bus.user.Append;
import chat.protocol.bus.user.Empty;
import chat.protocol.bus.user.FriendAdd;
import chat.protocol.bus.user.FriendIds;
import chat.protocol.bus.user.FriendLists;
import chat.protocol.bus.user.GroupCreate;
import chat.protocol.bus.user.GroupRef;
import chat.protocol.bus.user.History;
import chat.protocol.bus.user.Login;
import chat.protocol.bus.user.LoginData;
import chat.protocol.bus.user.NameCard;
import chat.protocol.bus.user.OfflineAck;
import chat.protocol.bus.user.OfflinePage;
import chat.protocol.bus.user.Profile;
import chat.protocol.bus.user.Register;
import chat.protocol.bus.user.UserRef;
import chat.protocol.config.DbUrl;
import chat.protocol.wire.JsonText;
import chat.user.repo.MessageStore;
import chat.user.repo.UserRepository.Account;
import chat.user.repo.UserRepository.Group;
import chat.user.repo.UserRepository;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
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
 * the {@code chat.user.*} addresses of {@link Addresses}. Requests and replies are the records
 * of {@code chat.protocol.bus.user} (JSON objects on the bus); a body that does not fit its
 * record is refused with INVALID_INPUT, and every refusal is {@code fail(code, text)} with a
 * code of {@link FailureCodes}.
 *
 * <p>The database schema must be in place ({@link chat.user.repo.SchemaMigration}) before this
 * verticle is deployed. Any number of instances, on any number of nodes, may run at once.
 */
public final class UserVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(UserVerticle.class);

  // The limits of names, passwords, pages and appends are the bus contract's: the records
  // of chat.protocol.bus.user check them when a request is read.
  private static final int MAX_PASSWORD_LENGTH = Register.MAX_PASSWORD_LENGTH;
  /** Messages larger than this (encoded JSON, UTF-16 units) are refused. */
  private static final int MAX_MESSAGE_LENGTH = Append.MAX_MESSAGE_LENGTH;
  /** The retention job runs this long after start, then at this interval. */
  static final Duration RETENTION_FIRST_RUN = Duration.ofSeconds(30);
  static final Duration RETENTION_INTERVAL = Duration.ofMinutes(5);

  private static final String LOCAL_MAP = "chat.user.service";
  private static final String RETENTION_OWNER = "retention-owner";

  static final String TOKEN_SECRET_NAME = "resume-token";
  private static final String BAD_CREDENTIALS_TEXT = "invalid id or password";
  /** The first page of a user without pending messages. */
  private static final OfflinePage.Reply NOTHING_PENDING = new OfflinePage.Reply(List.of(), false);

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
    LocalRecords.register(vertx.eventBus());
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
        consume(Addresses.USER_REGISTER, Register.class, this::register),
        // the login path: a gateway of this process hands over the records themselves
        consumeRecords(Addresses.USER_LOGIN, Login.class,
            body -> BusJson.fromJson(body, Login.class), this::login, BusJson::toJson),
        consume(Addresses.USER_LOGOUT, UserRef.class, this::logout),
        consume(Addresses.USER_PROFILE, UserRef.class, this::profile),
        // the hot path: a gateway of this process hands over the record itself, others send
        // JSON that the record maps itself (no text round trip through jackson)
        consumeRecords(Addresses.USER_MESSAGE_APPEND, Append.class, Append::fromJson,
            this::append, Append.Reply::toJson),
        // pages of chats: the replies map themselves too
        consume(Addresses.USER_OFFLINE_PAGE, body -> BusJson.fromJson(body, OfflinePage.class),
            this::offlinePage, OfflinePage.Reply::toJson),
        consumeRecords(Addresses.USER_LOGIN_DATA, LoginData.class,
            body -> BusJson.fromJson(body, LoginData.class), this::loginData,
            LoginData.Reply::toJson),
        consume(Addresses.USER_OFFLINE_ACK, OfflineAck.class, this::offlineAck),
        consume(Addresses.USER_HISTORY, body -> BusJson.fromJson(body, History.class),
            this::history, History.Reply::toJson),
        consume(Addresses.USER_FRIEND_ADD, FriendAdd.class, this::addFriend),
        // presence of this process hands over the records of its friend lookups (transitions)
        consumeRecords(Addresses.USER_FRIEND_LIST, UserRef.class,
            body -> BusJson.fromJson(body, UserRef.class), this::listFriends, BusJson::toJson),
        consumeRecords(Addresses.USER_FRIEND_LISTS, FriendLists.class,
            body -> BusJson.fromJson(body, FriendLists.class), this::listFriendsOfMany,
            BusJson::toJson),
        consume(Addresses.USER_GROUP_CREATE, GroupCreate.class, this::createGroup),
        consume(Addresses.USER_GROUP_JOIN, GroupRef.class, this::joinGroup),
        consume(Addresses.USER_GROUP_MEMBERS, GroupRef.class, this::groupMembers),
        consume(Addresses.USER_PING, Empty.class, this::ping)));
  }

  /**
   * An address whose request is its record itself from a gateway of this process (checked
   * when it was built; answered with the reply record, see {@link LocalRecords}), or its JSON
   * from anywhere (read with {@code reader} and answered as JSON with {@code writer}).
   */
  private <Q, R> Future<Void> consumeRecords(String address, Class<Q> requestType,
      Function<JsonObject, Q> reader, Function<Q, Future<R>> handler,
      Function<R, JsonObject> writer) {
    return vertx.eventBus().<Object>consumer(address, msg -> {
      if (!requestType.isInstance(msg.body())) {
        serve(address, msg, reader, handler, writer);
        return;
      }
      Future<R> result;
      try {
        result = handler.apply(requestType.cast(msg.body()));
      } catch (RuntimeException e) {
        result = Future.failedFuture(e);
      }
      result.onComplete(
          reply -> msg.reply(reply, LocalRecords.replyOptions()),
          err -> replyFailure(address, msg, err));
    }).completion();
  }

  /** An address whose request and reply records map through {@link BusJson}. */
  private <Q, R> Future<Void> consume(String address, Class<Q> requestType,
      Function<Q, Future<R>> handler) {
    return consume(address, body -> BusJson.fromJson(body, requestType), handler,
        BusJson::toJson);
  }

  private <Q, R> Future<Void> consume(String address, Function<JsonObject, Q> reader,
      Function<Q, Future<R>> handler, Function<R, JsonObject> writer) {
    EventBus bus = vertx.eventBus();
    return bus.<Object>consumer(address, msg -> serve(address, msg, reader, handler, writer))
        .completion();
  }

  /**
   * The edge: reads the request (a body that does not fit its record is INVALID_INPUT), runs
   * one handler and turns its outcome into exactly one reply.
   */
  private static <Q, R> void serve(String address, Message<Object> msg,
      Function<JsonObject, Q> reader, Function<Q, Future<R>> handler,
      Function<R, JsonObject> writer) {
    Future<JsonObject> result;
    try {
      Object body = msg.body();
      if (body != null && !(body instanceof JsonObject)) {
        throw BusFields.invalid("the request body must be a JSON object");
      }
      Q request = reader.apply(body == null ? new JsonObject() : (JsonObject) body);
      result = handler.apply(request).map(writer);
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

  private Future<Register.Reply> register(Register request) {
    String password = request.password();
    if (password.codePointCount(0, password.length()) < config.passwordMinLength()) {
      throw BusFields.invalid("password too short");
    }
    if (!passwords.tryAdmit()) {
      return Future.failedFuture(overloaded());
    }
    // admitted: from here the registration runs to its end and is answered
    return hasher.hash(password)
        .onComplete(ar -> passwords.done())
        .compose(hash -> repo.insertUser(request.name(), hash))
        .map(id -> {
          LOG.info("Registered userId={}", id);
          return new Register.Reply(id);
        });
  }

  private Future<Login.Reply> login(Login request) {
    Integer id = request.id();
    String name = request.name();
    String password = request.password();
    String token = request.token();
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

  private Login.Reply loggedIn(Account account) {
    String token = tokens.issue(account.id(), tokens.issueTime(account.tokensRevokedAt()));
    LOG.debug("Credentials accepted for userId={}", account.id());
    return new Login.Reply(account.id(), account.name(), token);
  }

  private static ServiceFailure badCredentials() {
    return new ServiceFailure(FailureCodes.BAD_CREDENTIALS, BAD_CREDENTIALS_TEXT);
  }

  private Future<Empty> logout(UserRef request) {
    int userId = request.userId();
    return repo.revokeTokens(userId, tokens.now())
        .map(found -> {
          LOG.debug("Tokens revoked for userId={} (found={})", userId, found);
          return Empty.INSTANCE;
        });
  }

  // ---- profile ----

  private Future<Profile> profile(UserRef request) {
    var friends = repo.friends(request.userId());
    var groups = repo.groupsOf(request.userId());
    return Future.all(friends, groups)
        .map(all -> profileOf(friends.result(), groups.result()));
  }

  private static Profile profileOf(List<UserRepository.Friend> friends, List<Group> groups) {
    return new Profile(
        friends.stream().map(f -> new NameCard(f.id(), f.name())).toList(),
        groups.stream().map(g -> new Profile.Group(g.id(), g.groupname(), g.groupdesc(),
            g.users().stream().map(m -> new Profile.Member(m.id(), m.name(), m.role()))
                .toList())).toList());
  }

  // ---- message log: append, pending pages, acknowledgement, history ----

  private Future<Append.Reply> append(Append request) {
    List<MessageStore.Append> appends = new ArrayList<>(request.messages().size());
    for (Append.Item item : request.messages()) {
      String encoded = item.text() != null ? item.text() : JsonText.toString(item.message());
      if (encoded.length() > MAX_MESSAGE_LENGTH) {
        throw BusFields.invalid("message too large");
      }
      appends.add(new MessageStore.Append(item.msgno(), item.conversation(), item.sender(),
          encoded, item.pending(), item.delivered(), item.to(), item.refusable()));
    }
    return messages.append(appends, clock.millis(), config.historyDays() > 0, config.offlineMax())
        .map(results -> new Append.Reply(results.stream()
            .map(r -> new Append.Result(r.stored(), r.full(), r.missing()))
            .toList()));
  }

  private Future<OfflinePage.Reply> offlinePage(OfflinePage request) {
    return messages.pendingPage(request.userId(), request.served())
        .map(UserVerticle::pageOf);
  }

  /**
   * A LOGIN ack's profile and first page of stored messages. The first statement reads the
   * friends and whether the user is in any group and has any pending message; the groups and
   * the page are read only when there is something to find (most logins: one statement where
   * there were three). Each read runs after the gateway registered the session, as before, so
   * a friend, group or message stored before that is in the ack. One {@code UNION ALL} of the
   * three reads cost the database about twice their CPU (its temporary table and sort at every
   * execution), and the database shares the node's machine.
   */
  private Future<LoginData.Reply> loginData(LoginData request) {
    int userId = request.userId();
    return repo.friendsAndFlags(userId).compose(first -> {
      Future<List<Group>> groups = first.inGroups()
          ? repo.groupsOf(userId) : Future.succeededFuture(List.of());
      Future<OfflinePage.Reply> pending = first.hasPending()
          ? messages.pendingPage(userId, request.served()).map(UserVerticle::pageOf)
          : Future.succeededFuture(NOTHING_PENDING);
      return Future.all(groups, pending)
          .map(all -> new LoginData.Reply(profileOf(first.friends(), groups.result()),
              pending.result()));
    });
  }

  private static OfflinePage.Reply pageOf(MessageStore.Page<MessageStore.Pending> page) {
    return new OfflinePage.Reply(page.items().stream()
        .map(p -> new OfflinePage.Stored(p.msgno(), new JsonObject(p.body())))
        .toList(), page.more());
  }

  private Future<OfflineAck.Reply> offlineAck(OfflineAck request) {
    return messages.ack(request.userId(), new LinkedHashSet<>(request.msgnos()))
        .map(OfflineAck.Reply::new);
  }

  private Future<History.Reply> history(History request) {
    int userId = request.userId();
    Integer with = request.with();
    Integer groupId = request.groupid();
    String before = request.before();
    int limit = request.served();
    Future<String> conv = with != null
        ? messages.userExists(with).compose(exists -> exists
            ? Future.succeededFuture(Append.oneToOne(userId, with))
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
    }).map(page -> new History.Reply(
        page.items().stream().map(JsonObject::new).toList(), page.more()));
  }

  // ---- friends ----

  private Future<FriendAdd.Reply> addFriend(FriendAdd request) {
    int userId = request.userId();
    int friendId = request.friendId();
    return repo.addFriendship(userId, friendId)
        .compose(ignored -> Future.all(repo.findById(userId), repo.findById(friendId)))
        .map(both -> new FriendAdd.Reply(nameCard(both.resultAt(0)), nameCard(both.resultAt(1))));
  }

  private static NameCard nameCard(Optional<Account> account) {
    // both exist: the friendship was just stored with foreign keys to them
    Account a = account.orElseThrow();
    return new NameCard(a.id(), a.name());
  }

  private Future<FriendIds> listFriends(UserRef request) {
    return repo.friendIds(request.userId()).map(FriendIds::new);
  }

  private Future<FriendLists.Reply> listFriendsOfMany(FriendLists request) {
    List<Integer> users = request.userIds().stream().distinct().toList();
    return repo.friendIdsOf(users).map(friends -> new FriendLists.Reply(users.stream()
        .map(id -> new FriendLists.Of(id, friends.getOrDefault(id, List.of()))).toList()));
  }

  // ---- groups ----

  private Future<GroupCreate.Reply> createGroup(GroupCreate request) {
    int userId = request.userId();
    return repo.createGroup(userId, request.groupname(), request.groupdesc())
        .map(groupId -> {
          LOG.info("Group created groupId={} by userId={}", groupId, userId);
          return new GroupCreate.Reply(groupId);
        });
  }

  private Future<Empty> joinGroup(GroupRef request) {
    return repo.joinGroup(request.userId(), request.groupid()).map(ignored -> Empty.INSTANCE);
  }

  private Future<GroupRef.Members> groupMembers(GroupRef request) {
    return memberOf(request.userId(), request.groupid()).map(GroupRef.Members::new);
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

  private Future<Empty> ping(Empty request) {
    return repo.ping().map(ignored -> Empty.INSTANCE);
  }
}
