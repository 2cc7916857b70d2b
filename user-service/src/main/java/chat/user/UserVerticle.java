package chat.user;

import chat.protocol.bus.Addresses;
import chat.protocol.bus.FailureCodes;
import chat.user.repo.DbUrl;
import chat.user.repo.UserRepository;
import chat.user.repo.UserRepository.Account;
import chat.user.repo.UserRepository.Group;
import chat.user.repo.UserRepository.OfflineMessage;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.mysqlclient.MySQLException;
import io.vertx.sqlclient.ClosedConnectionException;
import java.io.IOException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The user service: accounts, resume tokens, friends, groups and offline messages, served on
 * the {@code chat.user.*} addresses of {@link Addresses}. Every reply is a JSON object; every
 * refusal is {@code fail(code, text)} with a code of {@link FailureCodes}.
 *
 * <p>The database schema must be in place ({@link chat.user.repo.SchemaMigration}) before this
 * verticle is deployed. Any number of instances, on any number of nodes, may run at once.
 */
public final class UserVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(UserVerticle.class);

  public static final int MAX_NAME_LENGTH = 64;
  public static final int MAX_PASSWORD_LENGTH = 128;
  public static final int MAX_GROUP_DESC_LENGTH = 255;
  /** Offline messages larger than this (encoded JSON, UTF-16 units) are refused. */
  public static final int MAX_OFFLINE_MESSAGE_LENGTH = 1 << 20;

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
  private PasswordHasher hasher;
  private TokenService tokens;

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
    hasher = new PasswordHasher(vertx, config.passwordIterations());
    return tokenSecret()
        .map(secret -> tokens = new TokenService(
            secret, Duration.ofSeconds(config.tokenTtlSeconds()), clock))
        .compose(ignored -> registerConsumers())
        .onSuccess(ignored -> LOG.info("User service started ({})", config))
        .recover(err -> {
          LOG.error("User service failed to start: {}", err.toString());
          return repo.close().transform(ignored -> Future.failedFuture(err));
        });
  }

  @Override
  public Future<?> stop() {
    return repo == null ? Future.succeededFuture() : repo.close();
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
        consume(Addresses.USER_OFFLINE_DELETE, this::deleteOffline),
        consume(Addresses.USER_OFFLINE_STORE, this::storeOffline),
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
        throw Fields.invalid("the request body must be a JSON object");
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
    if (err instanceof UserServiceException e) {
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
    String name = Fields.name(body, "name", MAX_NAME_LENGTH);
    String password = Fields.password(body, "password", MAX_PASSWORD_LENGTH);
    return hasher.hash(password)
        .compose(hash -> repo.insertUser(name, hash))
        .map(id -> {
          LOG.info("Registered userId={}", id);
          return new JsonObject().put("id", id);
        });
  }

  private Future<JsonObject> login(JsonObject body) {
    Integer id = Fields.optionalId(body, "id");
    String name = id == null ? Fields.string(body, "name").strip() : null;
    String password = Fields.optionalString(body, "password");
    String token = password == null ? Fields.string(body, "token") : null;
    if (password != null && password.length() > 2 * MAX_PASSWORD_LENGTH) {
      // longer than any registered password can be: no need to spend a hash on it
      return Future.failedFuture(badCredentials());
    }
    Future<Optional<Account>> account = id != null ? repo.findById(id) : repo.findByName(name);
    return account
        .compose(found -> password != null
            ? checkPassword(found, password)
            : checkToken(found, token))
        .map(this::loggedIn);
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

  private static UserServiceException badCredentials() {
    return new UserServiceException(FailureCodes.BAD_CREDENTIALS, BAD_CREDENTIALS_TEXT);
  }

  private Future<JsonObject> logout(JsonObject body) {
    int userId = Fields.id(body, "userId");
    return repo.revokeTokens(userId, tokens.now())
        .map(found -> {
          LOG.debug("Tokens revoked for userId={} (found={})", userId, found);
          return new JsonObject();
        });
  }

  // ---- profile and offline messages ----

  private Future<JsonObject> profile(JsonObject body) {
    int userId = Fields.id(body, "userId");
    var friends = repo.friends(userId);
    var groups = repo.groupsOf(userId);
    var offline = repo.offlineMessages(userId);
    return Future.all(friends, groups, offline)
        .map(all -> profileJson(friends.result(), groups.result(), offline.result()));
  }

  private static JsonObject profileJson(List<UserRepository.Friend> friends, List<Group> groups,
      List<OfflineMessage> offline) {
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
    JsonArray offlineJson = new JsonArray();
    long upTo = 0;
    for (OfflineMessage m : offline) {
      offlineJson.add(new JsonObject().put("no", m.no()).put("message", m.message()));
      upTo = Math.max(upTo, m.no());
    }
    return new JsonObject()
        .put("friends", friendsJson)
        .put("groups", groupsJson)
        .put("offline", offlineJson)
        .put("offlineUpTo", upTo);
  }

  private Future<JsonObject> storeOffline(JsonObject body) {
    int toId = Fields.id(body, "toid");
    String message = Fields.object(body, "message").encode();
    if (message.length() > MAX_OFFLINE_MESSAGE_LENGTH) {
      throw Fields.invalid("message too large");
    }
    return repo.storeOfflineMessage(toId, message)
        .map(no -> new JsonObject().put("no", no));
  }

  private Future<JsonObject> deleteOffline(JsonObject body) {
    int userId = Fields.id(body, "userId");
    long upTo = Fields.nonNegativeLong(body, "upTo");
    return repo.deleteOfflineMessages(userId, upTo)
        .map(deleted -> {
          LOG.debug("Deleted {} offline message(s) of userId={}", deleted, userId);
          return new JsonObject();
        });
  }

  // ---- friends ----

  private Future<JsonObject> addFriend(JsonObject body) {
    int userId = Fields.id(body, "userId");
    int friendId = Fields.id(body, "friendId");
    if (userId == friendId) {
      throw Fields.invalid("cannot befriend oneself");
    }
    return repo.addFriendship(userId, friendId).map(ignored -> new JsonObject());
  }

  private Future<JsonObject> listFriends(JsonObject body) {
    int userId = Fields.id(body, "userId");
    return repo.friendIds(userId).map(ids -> new JsonObject().put("ids", new JsonArray(ids)));
  }

  // ---- groups ----

  private Future<JsonObject> createGroup(JsonObject body) {
    int userId = Fields.id(body, "userId");
    String groupname = Fields.name(body, "groupname", MAX_NAME_LENGTH);
    String groupdesc = Fields.text(body, "groupdesc", MAX_GROUP_DESC_LENGTH);
    return repo.createGroup(userId, groupname, groupdesc)
        .map(groupId -> {
          LOG.info("Group created groupId={} by userId={}", groupId, userId);
          return new JsonObject().put("groupid", groupId);
        });
  }

  private Future<JsonObject> joinGroup(JsonObject body) {
    int userId = Fields.id(body, "userId");
    int groupId = Fields.id(body, "groupid");
    return repo.joinGroup(userId, groupId).map(ignored -> new JsonObject());
  }

  private Future<JsonObject> groupMembers(JsonObject body) {
    int userId = Fields.id(body, "userId");
    int groupId = Fields.id(body, "groupid");
    return repo.groupMemberIds(groupId).compose(members -> {
      if (members.isEmpty()) {
        return Future.failedFuture(
            new UserServiceException(FailureCodes.NO_SUCH_GROUP, "no such group"));
      }
      if (!members.get().contains(userId)) {
        return Future.failedFuture(
            new UserServiceException(FailureCodes.NOT_A_MEMBER, "not a member of the group"));
      }
      return Future.succeededFuture(
          new JsonObject().put("members", new JsonArray(members.get())));
    });
  }

  private Future<JsonObject> ping(JsonObject body) {
    return repo.ping().map(ignored -> new JsonObject());
  }
}
