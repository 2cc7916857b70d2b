package chat.protocol.bus;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageCodec;
import io.vertx.core.json.JsonObject;
import java.util.function.Function;

/**
 * Hands a record of the bus contract to a consumer in the same process as it is: no JSON body
 * is built, copied by the event bus, read back and checked again. The records are immutable
 * and were checked when they were built, so the consumer gets what it would have read.
 *
 * <p>Only for requests sent {@linkplain DeliveryOptions#setLocalOnly local only} and for the
 * replies to them (a reply goes back to its sender in the same process). A record never
 * travels between nodes this way: there the body stays the JSON of {@link BusJson} (and the
 * records' own {@code toJson}), which every node reads, so nodes can be rolled one at a time.
 * The sender falls back to that JSON when no consumer is here.
 *
 * <p>Registered by name on each Vert.x instance by whoever uses it first ({@link #register}).
 */
public final class LocalRecords implements MessageCodec<Object, Object> {

  /** The codec's name on the event bus. */
  public static final String NAME = "chat.local-record";

  private static final LocalRecords INSTANCE = new LocalRecords();
  private static final DeliveryOptions REPLY_OPTIONS = new DeliveryOptions().setCodecName(NAME);

  private LocalRecords() {
  }

  /**
   * Registers the codec on this event bus unless it is there already (the gateway and the
   * user service of one process share one bus, and either may start first).
   */
  public static void register(EventBus bus) {
    synchronized (bus) {
      try {
        bus.registerCodec(INSTANCE);
      } catch (IllegalStateException registered) {
        // "Already a codec registered with name chat.local-record": by the other side
      }
    }
  }

  /** The codec itself (for tests). */
  static LocalRecords codec() {
    return INSTANCE;
  }

  /** Options of a local-only request whose body (and reply) is a record passed as it is. */
  public static DeliveryOptions options(long timeoutMs) {
    return new DeliveryOptions().setLocalOnly(true).setCodecName(NAME).setSendTimeout(timeoutMs);
  }

  /** Options of a reply that is a record passed as it is (to a local-only request). */
  public static DeliveryOptions replyOptions() {
    return new DeliveryOptions().setCodecName(NAME);
  }

  /**
   * The request record a message carries: the record itself when a sender of this process
   * handed it over, else read from its JSON body with {@code reader} (which refuses a body that
   * does not fit with INVALID_INPUT, as does a body that is no JSON object).
   */
  public static <Q> Q request(Message<?> msg, Class<Q> type, Function<JsonObject, Q> reader) {
    Object body = msg.body();
    if (type.isInstance(body)) {
      return type.cast(body);
    }
    if (body != null && !(body instanceof JsonObject)) {
      throw BusFields.invalid("the request body must be a JSON object");
    }
    return reader.apply((JsonObject) body);
  }

  /**
   * Answers a request read with {@link #request}: with the reply record as it is when the
   * request came as a record (its sender is in this process), else with the record's JSON.
   */
  public static <R> void reply(Message<?> msg, R reply, Function<R, JsonObject> writer) {
    Object body = msg.body();
    if (body == null || body instanceof JsonObject) {
      msg.reply(writer.apply(reply));
    } else {
      msg.reply(reply, REPLY_OPTIONS);
    }
  }

  @Override
  public void encodeToWire(Buffer buffer, Object record) {
    throw new IllegalStateException("a record is only passed within one process, not sent: "
        + record.getClass().getName());
  }

  @Override
  public Object decodeFromWire(int pos, Buffer buffer) {
    throw new IllegalStateException("a record is only passed within one process");
  }

  @Override
  public Object transform(Object record) {
    return record;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public byte systemCodecID() {
    return -1;
  }
}
