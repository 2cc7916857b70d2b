package chat.gateway.bus;

import chat.gateway.GatewayMetrics;
import chat.protocol.bus.Addresses;
import chat.protocol.bus.BusJson;
import chat.protocol.bus.FailureCodes;
import chat.protocol.bus.LocalRecords;
import chat.protocol.bus.ServiceFailure;
import chat.protocol.wire.ErrorCode;
import chat.protocol.wire.ProtocolException;
import io.vertx.core.Future;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;
import java.util.Set;
import java.util.function.Function;

/**
 * Requests to the other services over the event bus. A failed request fails with the
 * {@link ReplyException}; {@link #failureCode} tells a refusal's code and {@link #toClient}
 * the ERROR a client sees for it.
 */
public final class ServiceClient {

  private final EventBus bus;
  private final boolean preferLocal;
  private final DeliveryOptions local;
  private final DeliveryOptions localRecords;
  private final DeliveryOptions options;
  private final DeliveryOptions halfTimeout;

  /**
   * @param preferLocal the services also run in this process: ask them first (no network
   *                    hop), and the cluster only when they do not answer
   */
  public ServiceClient(EventBus bus, long timeoutMs, boolean preferLocal) {
    this.bus = bus;
    this.preferLocal = preferLocal;
    this.local = new DeliveryOptions().setSendTimeout(timeoutMs).setLocalOnly(true);
    this.localRecords = LocalRecords.options(timeoutMs);
    this.options = new DeliveryOptions().setSendTimeout(timeoutMs);
    this.halfTimeout = new DeliveryOptions().setSendTimeout(Math.max(1, timeoutMs / 2));
    if (preferLocal) {
      LocalRecords.register(bus);
    }
  }

  /**
   * Reads that are safe to repeat: right after a node dies the cluster may still route a
   * request to its consumers for a moment, and such a request only ends with the timeout.
   * These are sent with half the timeout and tried twice.
   */
  private static final Set<String> RETRY_SAFE = Set.of(
      Addresses.PRESENCE_LOCATE, Addresses.PRESENCE_QUERY, Addresses.USER_PROFILE,
      Addresses.USER_FRIEND_LIST, Addresses.USER_GROUP_MEMBERS);

  public Future<JsonObject> request(String address, JsonObject body) {
    if (preferLocal) {
      return bus.<JsonObject>request(address, body, local)
          .map(Message::body)
          .recover(err -> isNoHandlers(err) ? anywhere(address, body) : Future.failedFuture(err))
          .onFailure(err -> GatewayMetrics.current().requestFailed(address, err));
    }
    return anywhere(address, body).onFailure(err -> GatewayMetrics.current().requestFailed(address, err));
  }

  private Future<JsonObject> anywhere(String address, JsonObject body) {
    if (RETRY_SAFE.contains(address)) {
      return bus.<JsonObject>request(address, body, halfTimeout)
          .recover(err -> isUnanswered(err)
              ? bus.<JsonObject>request(address, body, halfTimeout)
              : Future.failedFuture(err))
          .map(Message::body);
    }
    return bus.<JsonObject>request(address, body, options).map(Message::body);
  }

  /**
   * A request with its own timeout, for work whose wait the service bounds itself (password
   * hashing is admitted or refused at once, so a longer wait only covers admitted work).
   */
  public Future<JsonObject> request(String address, JsonObject body, long timeoutMs) {
    DeliveryOptions once = new DeliveryOptions().setSendTimeout(timeoutMs);
    if (preferLocal) {
      return bus.<JsonObject>request(address, body, new DeliveryOptions(once).setLocalOnly(true))
          .recover(err -> isNoHandlers(err) ? bus.<JsonObject>request(address, body, once)
              : Future.failedFuture(err))
          .map(Message::body)
          .onFailure(err -> GatewayMetrics.current().requestFailed(address, err));
    }
    return bus.<JsonObject>request(address, body, once).map(Message::body)
        .onFailure(err -> GatewayMetrics.current().requestFailed(address, err));
  }

  /**
   * A request record of the bus contract, sent as its JSON body ({@link BusJson}); the reply
   * is read into {@code replyType}. A reply that does not fit it fails the request as an
   * internal error (the service broke the contract, not the client).
   */
  public <R> Future<R> request(String address, Object request, Class<R> replyType) {
    return request(address, request, body -> BusJson.fromJson(body, replyType));
  }

  /** As {@link #request(String, Object, Class)}, for a reply record that maps itself. */
  public <R> Future<R> request(String address, Object request, Function<JsonObject, R> reader) {
    return request(address, BusJson.toJson(request)).map(body -> reply(address, body, reader));
  }

  /** As {@link #request(String, Object, Class)}, with its own timeout. */
  public <R> Future<R> request(String address, Object request, Class<R> replyType,
                               long timeoutMs) {
    return request(address, BusJson.toJson(request), timeoutMs)
        .map(body -> reply(address, body, b -> BusJson.fromJson(b, replyType)));
  }

  /**
   * A request record handed as it is to the service of this process ({@link LocalRecords}),
   * which answers with its reply record: no JSON is built, copied or read on either side.
   * Without a consumer here (or with the services elsewhere) the record goes to one in the
   * cluster as {@code toJson}, and the reply is read with {@code reader}.
   */
  public <Q, R> Future<R> request(String address, Q request, Function<Q, JsonObject> toJson,
                                  Class<R> replyType, Function<JsonObject, R> reader,
                                  long timeoutMs) {
    if (!preferLocal) {
      return request(address, toJson.apply(request), timeoutMs)
          .map(body -> reply(address, body, reader));
    }
    return bus.request(address, request, LocalRecords.options(timeoutMs))
        .map(message -> replyType.isInstance(message.body()) ? replyType.cast(message.body())
            : reply(address, (JsonObject) message.body(), reader))
        .recover(err -> isNoHandlers(err)
            ? bus.<JsonObject>request(address, toJson.apply(request),
                    new DeliveryOptions().setSendTimeout(timeoutMs))
                .map(message -> reply(address, message.body(), reader))
            : Future.failedFuture(err))
        .onFailure(err -> GatewayMetrics.current().requestFailed(address, err));
  }

  /**
   * As the one above, with the request timeout: a record to the service of this process, else
   * its JSON to one in the cluster (reads that are safe to repeat are tried twice there, as
   * {@link #request(String, JsonObject)} does).
   */
  public <Q, R> Future<R> request(String address, Q request, Function<Q, JsonObject> toJson,
                                  Class<R> replyType, Function<JsonObject, R> reader) {
    if (!preferLocal) {
      return anywhere(address, toJson.apply(request))
          .map(body -> reply(address, body, reader))
          .onFailure(err -> GatewayMetrics.current().requestFailed(address, err));
    }
    return bus.request(address, request, localRecords)
        .map(message -> replyType.isInstance(message.body()) ? replyType.cast(message.body())
            : reply(address, (JsonObject) message.body(), reader))
        .recover(err -> isNoHandlers(err)
            ? anywhere(address, toJson.apply(request)).map(body -> reply(address, body, reader))
            : Future.failedFuture(err))
        .onFailure(err -> GatewayMetrics.current().requestFailed(address, err));
  }

  private static <R> R reply(String address, JsonObject body, Function<JsonObject, R> reader) {
    try {
      return reader.apply(body);
    } catch (ServiceFailure e) {
      throw new IllegalStateException(address + " answered a body its reply record refuses: "
          + e.getMessage());
    }
  }

  /**
   * A request record the contract refused to build (its field rules, the same the service
   * applies) as the failure the service would have answered.
   */
  private static ReplyException refused(ServiceFailure failure) {
    return new ReplyException(ReplyFailure.RECIPIENT_FAILURE, failure.code(),
        failure.getMessage());
  }

  /**
   * True when a failed request may be tried again later with nothing done: the service
   * refused it as overloaded or unavailable, or nobody was there to take it.
   */
  public static boolean isRetryLater(Throwable err) {
    if (err instanceof ReplyException re) {
      return switch (re.failureType()) {
        case NO_HANDLERS, TIMEOUT -> true;
        default -> re.failureCode() == FailureCodes.OVERLOADED
            || re.failureCode() == FailureCodes.DATABASE_UNAVAILABLE
            || re.failureCode() == FailureCodes.SERVICE_UNAVAILABLE;
      };
    }
    return false;
  }

  /** A jittered delay a client is told to wait before trying again (500–1500 ms). */
  public static long retryAfterMs() {
    return 500 + java.util.concurrent.ThreadLocalRandom.current().nextLong(1001);
  }

  /** True when no consumer of the address was found (here, or anywhere in the cluster). */
  public static boolean isNoHandlers(Throwable err) {
    return err instanceof ReplyException re && re.failureType() == ReplyFailure.NO_HANDLERS;
  }

  private static boolean isUnanswered(Throwable err) {
    return err instanceof ReplyException re
        && (re.failureType() == ReplyFailure.TIMEOUT || re.failureType() == ReplyFailure.NO_HANDLERS);
  }

  /** The failure code of a refusal by the service, or -1 when it was not a refusal. */
  public static int failureCode(Throwable err) {
    if (err instanceof ServiceFailure refused) {
      return refused.code();
    }
    if (err instanceof ReplyException re && re.failureType() == ReplyFailure.RECIPIENT_FAILURE) {
      return re.failureCode();
    }
    return -1;
  }

  /** The ERROR a client sees for a failed request. */
  public static ProtocolException toClient(Throwable err) {
    if (err instanceof ProtocolException pe) {
      return pe;
    }
    if (err instanceof ServiceFailure refused) {
      // a request record refused before it was sent: as if the service had refused it
      err = refused(refused);
    }
    if (err instanceof ReplyException re) {
      return switch (re.failureType()) {
        case NO_HANDLERS -> new ProtocolException(ErrorCode.UNAVAILABLE, "service unavailable");
        case TIMEOUT -> new ProtocolException(ErrorCode.UNAVAILABLE, "service did not answer");
        default -> {
          int errno = FailureCodes.errnoOf(re.failureCode());
          yield new ProtocolException(errno,
              errno == ErrorCode.INTERNAL ? "internal error" : re.getMessage());
        }
      };
    }
    return new ProtocolException(ErrorCode.INTERNAL, "internal error");
  }
}
