package chat.gateway.handler;

import chat.gateway.GatewayConfig;
import chat.gateway.bus.ServiceClient;
import chat.gateway.report.SessionDigestReporter;
import chat.gateway.session.Session;
import chat.gateway.session.SessionLog;
import chat.protocol.bus.Addresses;
import chat.protocol.bus.BusJson;
import chat.protocol.bus.FailureCodes;
import chat.protocol.bus.ServiceFailure;
import chat.protocol.bus.presence.Connect;
import chat.protocol.bus.presence.States;
import chat.protocol.bus.presence.UserIds;
import chat.protocol.bus.user.Empty;
import chat.protocol.bus.user.Login;
import chat.protocol.bus.user.LoginData;
import chat.protocol.bus.user.OfflinePage;
import chat.protocol.bus.user.Profile;
import chat.protocol.bus.user.Register;
import chat.protocol.bus.user.UserRef;
import chat.protocol.wire.ErrorCode;
import chat.protocol.wire.Fields;
import chat.protocol.wire.MsgId;
import chat.protocol.wire.ProtocolException;
import chat.protocol.wire.Replies;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** LOGIN, REG and LOGINOUT: the visitor → user → visitor life of a connection. */
final class AccountHandler {

  private static final Logger LOG = LoggerFactory.getLogger(AccountHandler.class);

  private final GatewayConfig config;
  private final ServiceClient services;
  private final OfflineHandler offline;
  private final LoginThrottle throttle;
  private final LoginAdmission admission;
  /** Token logins that may wait for their turn, per one allowed in flight. */
  static final int WAITING_PER_LOGIN_IN_FLIGHT = 8;

  AccountHandler(GatewayConfig config, ServiceClient services, OfflineHandler offline,
                 LoginThrottle throttle) {
    this.config = config;
    this.services = services;
    this.offline = offline;
    this.throttle = throttle;
    this.admission = new LoginAdmission(config.loginsInFlight(),
        WAITING_PER_LOGIN_IN_FLIGHT * config.loginsInFlight(), config.requestTimeoutMs());
  }

  Future<Void> register(Session session, JsonObject request) {
    String name = Fields.string(request, "name");
    String password = Fields.string(request, "password");
    Object seq = Fields.seq(request);
    // Password hashing is admitted or refused at once (OVERLOADED) by the user service, and
    // admitted work is bounded by its queue: the long timeout only covers admitted work, so a
    // REG is answered as done or refused, not timed out while the account gets created.
    Future<Register.Reply> created;
    try {
      created = services.request(Addresses.USER_REGISTER, new Register(name, password),
          Register.Reply.class, config.passwordTimeoutMs());
    } catch (ServiceFailure refused) {
      // a name or password the contract refuses: the service would refuse it the same way
      created = Future.failedFuture(refused);
    }
    return created
        .map(reply -> {
          SessionLog.info(LOG, "register", session.connectionId(), reply.id(),
              "register {} name {} user {}", session.connectionId(), name, reply.id());
          return regAck(0, null, seq).put("id", reply.id());
        })
        .recover(err -> {
          int code = ServiceClient.failureCode(err);
          if (code == FailureCodes.NAME_TAKEN || code == FailureCodes.INVALID_INPUT) {
            SessionLog.info(LOG, "register-refused", session.connectionId(), -1,
                "register {} name {} refused: {}", session.connectionId(), name,
                err.getMessage());
            return Future.succeededFuture(regAck(1, err.getMessage(), seq));
          }
          return Future.failedFuture(err);
        })
        .compose(session::send);
  }

  Future<Void> login(Session session, JsonObject request) {
    Integer id = Fields.optionalId(request, "id");
    String name = Fields.optionalString(request, "name");
    String password = Fields.optionalString(request, "password");
    String token = Fields.optionalString(request, "token");
    if (id == null && name == null) {
      throw ProtocolException.badRequest("id or name is required");
    }
    if (password == null && token == null) {
      throw ProtocolException.badRequest("password or token is required");
    }
    if (session.state() != Session.State.VISITOR) {
      throw new ProtocolException(ErrorCode.CONFLICT, "already logged in: send LOGINOUT first");
    }
    Object seq = Fields.seq(request);
    // a token, when given, is what is checked (the record keeps one secret)
    Login credentials = new Login(id, name, token != null ? null : password, token);
    // Token logins come all at once after a node dies: beyond the node's bound, 503 at once.
    return token != null ? admission.admit(() -> checkAndEnter(session, request, credentials, seq))
        : checkAndEnter(session, request, credentials, seq);
  }

  private Future<Void> checkAndEnter(Session session, JsonObject request, Login credentials,
                                     Object seq) {
    if (session.state() == Session.State.ENDED) {
      return Future.succeededFuture(); // closed while its login waited: nobody to log in
    }
    Integer id = credentials.id();
    String name = credentials.name();
    String token = credentials.token();
    // The record itself to the user service of this process (no JSON either way).
    Future<Login.Reply> checked = throttle.guard(session, request, () -> services.request(
        Addresses.USER_LOGIN, credentials, BusJson::toJson, Login.Reply.class,
        body -> BusJson.fromJson(body, Login.Reply.class),
        token != null ? config.requestTimeoutMs() : config.passwordTimeoutMs()));
    return checked
        .compose(user -> enter(session, request, user, seq),
            err -> {
              if (ServiceClient.failureCode(err) != FailureCodes.BAD_CREDENTIALS) {
                return Future.failedFuture(err);
              }
              if (token != null) {
                // Failed passwords are logged by the throttle, which counts them.
                SessionLog.info(LOG, "login-failed", session.connectionId(),
                    id != null ? id : -1,
                    "login {} {} {} refused: invalid token", session.connectionId(),
                    id != null ? "user" : "name", id != null ? id : name);
              }
              return session.send(loginAck(1, "invalid id or password", seq));
            });
  }

  Future<Void> logout(Session session, JsonObject request) {
    int userId = session.userId();
    SessionLog.info(LOG, "logout", session.connectionId(), userId, "logout {} user {} session {}",
        session.connectionId(), userId, session.sessionId());
    session.logout();
    // Acknowledged once every earlier token of the user is revoked.
    return services.request(Addresses.USER_LOGOUT, new UserRef(userId), Empty.class)
        .compose(v -> ackIfAsked(session, request));
  }

  /**
   * Credentials are good: register the session with presence, then build and send the ack.
   * The connect carries this node's next connect number (see SessionDigestReporter). The end
   * of the session is reported whatever the connect's outcome, once it is known — also when
   * it failed or timed out: presence may still have added the session, and an end that
   * arrives before its connect makes the connect add nothing.
   */
  private Future<Void> enter(Session session, JsonObject request, Login.Reply user, Object seq) {
    int userId = user.id();
    String sessionId = session.beginLogin(userId, user.name());
    // the record itself to the presence service of this process (no JSON either way)
    Future<Connect.Reply> registration = services.request(Addresses.PRESENCE_CONNECT,
        new Connect(userId, sessionId, config.nodeId(), session.transport(),
            config.loginConflict(), SessionDigestReporter.nextConnectSeq()),
        BusJson::toJson, Connect.Reply.class, body -> BusJson.fromJson(body, Connect.Reply.class));
    session.registering(registration.otherwiseEmpty());
    return registration
        .compose(registered -> profileAck(session, request, user, seq))
        .recover(err -> {
          session.abortLogin();
          if (ServiceClient.failureCode(err) == FailureCodes.ALREADY_ONLINE) {
            SessionLog.info(LOG, "login-refused", session.connectionId(), userId,
                "login {} user {} refused: already online", session.connectionId(), userId);
            return session.send(loginAck(2, "this account is already online", seq));
          }
          return Future.failedFuture(err);
        });
  }

  private Future<Void> profileAck(Session session, JsonObject request, Login.Reply user,
                                  Object seq) {
    int userId = user.id();
    boolean structured = "structured".equals(request.getValue("format"));
    boolean heartbeat = Boolean.TRUE.equals(request.getValue("heartbeat"));
    boolean ackMode = "ack".equals(request.getValue("offline"));
    return loginData(userId, ackMode)
        .compose(data -> states(LoginAck.peopleIn(data.profile())).compose(states -> {
          OfflinePage.Reply page = data.offline();
          JsonObject ack = LoginAck.build(userId, user.name(), user.token(),
              data.profile(), page.messages(), states, structured, heartbeatSettings());
          if (ackMode) {
            ack.put("offline_more", page.more());
          }
          Replies.withSeq(ack, seq);
          session.structured(structured);
          session.offlineAckMode(ackMode);
          offline.given(session, page);
          return session.completeLogin(ack, heartbeat).onSuccess(v -> {
            offline.loginAckWritten(session, userId);
            Promise<Void> waiters = session.takePendingOfflineCheck();
            if (waiters != null) {
              offline.deliverStored(session).onComplete(waiters);
            }
          });
        }));
  }

  /**
   * The user's profile and first stored messages, read after the session is registered with
   * presence (so a friend added meanwhile is in the profile or gets its FRIEND push): one
   * request, one query; its records are passed as they are to a user service of this process. A user service that does not serve it yet (a cluster being upgraded)
   * is asked for the two separately.
   */
  private Future<LoginData.Reply> loginData(int userId, boolean ackMode) {
    return services.request(Addresses.USER_LOGIN_DATA,
            new LoginData(userId, offline.loginLimit(ackMode)), BusJson::toJson,
            LoginData.Reply.class, LoginData.Reply::fromJson, config.requestTimeoutMs())
        .recover(err -> ServiceClient.isNoHandlers(err)
            ? separately(userId, ackMode) : Future.failedFuture(err));
  }

  private Future<LoginData.Reply> separately(int userId, boolean ackMode) {
    Future<Profile> profileRead = services.request(Addresses.USER_PROFILE, new UserRef(userId),
        Profile.class);
    Future<OfflinePage.Reply> stored = offline.forLogin(userId, ackMode);
    return Future.all(profileRead, stored)
        .map(both -> new LoginData.Reply(profileRead.result(), stored.result()));
  }

  /** Stored messages for a user online here: the session delivers those it has not had. */
  Future<Void> deliverStored(Session session) {
    return offline.deliverStored(session);
  }

  /** Presence's states (and their versions) of the given users. */
  private Future<States> states(JsonArray ids) {
    if (ids.isEmpty()) {
      return Future.succeededFuture(new States(null, null));
    }
    return services.request(Addresses.PRESENCE_QUERY, userIds(ids), BusJson::toJson,
        States.class, body -> BusJson.fromJson(body, States.class));
  }

  /** The ids of a JSON array (the people of a login's profile), as presence is asked for them. */
  static UserIds userIds(JsonArray ids) {
    List<Integer> list = new ArrayList<>(ids.size());
    for (int i = 0; i < ids.size(); i++) {
      list.add(ids.getInteger(i));
    }
    return new UserIds(list);
  }

  private JsonObject heartbeatSettings() {
    return new JsonObject()
        .put("interval", config.heartbeatIntervalSeconds())
        .put("timeout", config.heartbeatTimeoutSeconds());
  }

  private static JsonObject loginAck(int errno, String errmsg, Object seq) {
    return classicAck(MsgId.LOGIN_ACK, errno, errmsg, seq);
  }

  private static JsonObject regAck(int errno, String errmsg, Object seq) {
    return classicAck(MsgId.REG_ACK, errno, errmsg, seq);
  }

  /** A classic reply ({@code msgid}, {@code errno}, {@code errmsg} when it failed). */
  private static JsonObject classicAck(int msgid, int errno, String errmsg, Object seq) {
    JsonObject ack = new JsonObject().put("msgid", msgid).put("errno", errno);
    if (errmsg != null) {
      ack.put("errmsg", errmsg);
    }
    return Replies.withSeq(ack, seq);
  }

  static Future<Void> ackIfAsked(Session session, JsonObject request) {
    Object seq = Fields.seq(request);
    if (seq == null) {
      return Future.succeededFuture();
    }
    return session.sendAck(Fields.msgid(request), seq).otherwiseEmpty();
  }
}
