package chat.user;

import chat.protocol.bus.BusFields;
import chat.protocol.bus.BusJson;
import chat.protocol.bus.user.Append;
import chat.protocol.bus.user.OfflinePage;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cost of mapping {@code chat.user.message.append}, which runs once per chat, for a
 * typical body (one chat logged at accept: {@code {messages:[{message, to:[id]}]}}): reading
 * it by hand with {@code BusFields} as the service used to, into the record with jackson
 * ({@code BusJson}), and into the record with its own {@code Append.fromJson}; the same for
 * building the request and for the reply; and, for comparison, a page of 100 stored chats
 * through BusJson. A measurement, not a check, so it runs only when asked:
 *
 * <pre>
 * mvn -q -o -B -pl user-service -am test -Dtest=AppendMappingBenchmark -Dchat.bench=true \
 *   -Dsurefire.failIfNoSpecifiedTests=false
 * </pre>
 */
@EnabledIfSystemProperty(named = "chat.bench", matches = "true")
class AppendMappingBenchmark {

  private static final Logger LOG = LoggerFactory.getLogger(AppendMappingBenchmark.class);
  private static final int ROUNDS = 1_000_000;
  private static final int PAGE_ROUNDS = 20_000;

  private static final JsonObject CHAT = new JsonObject().put("msgid", 6).put("id", 13)
      .put("toid", 14).put("msg", "hello, are we still on for tonight?")
      .put("msgno", UUID.randomUUID().toString()).put("time", "2026-12-01 17:00:00");

  private long sink;

  @Test
  void appendMapping() {
    JsonObject body = new JsonObject().put("messages", new JsonArray()
        .add(new JsonObject().put("message", CHAT).put("to", new JsonArray().add(14))));
    Append record = Append.fromJson(body);
    JsonObject replyBody = new JsonObject().put("results", new JsonArray()
        .add(new JsonObject().put("stored", new JsonArray()).put("full", new JsonArray())
            .put("missing", new JsonArray())));

    double readByHand = nsPerOp("read by hand (BusFields)", () -> readByHand(body).size());
    double readJackson = nsPerOp("read with BusJson", () ->
        BusJson.fromJson(body, Append.class).messages().size());
    double readOwn = nsPerOp("read with Append.fromJson", () ->
        Append.fromJson(body).messages().size());

    double buildByHand = nsPerOp("build by hand", () -> new JsonObject().put("messages",
        new JsonArray().add(new JsonObject().put("message", CHAT)
            .put("to", new JsonArray(new ArrayList<>(List.of(14)))))).size());
    double buildJackson = nsPerOp("build with BusJson", () -> BusJson.toJson(
        new Append(List.of(Append.Item.log(CHAT, List.of(14))))).size());
    double buildOwn = nsPerOp("build with Append.toJson", () ->
        new Append(List.of(Append.Item.log(CHAT, List.of(14)))).toJson().size());

    Append.Reply reply = Append.Reply.fromJson(replyBody);
    double replyByHand = nsPerOp("reply by hand", () -> replyByHand(replyBody));
    double replyJackson = nsPerOp("reply with BusJson", () -> BusJson.fromJson(
        BusJson.toJson(reply), Append.Reply.class).results().size());
    double replyOwn = nsPerOp("reply with Append.Reply", () ->
        Append.Reply.fromJson(reply.toJson()).results().size());

    LOG.info("per chat, over hand mapping: jackson records +{} ns, own toJson/fromJson +{} ns",
        Math.round(readJackson + buildJackson + replyJackson
            - readByHand - buildByHand - replyByHand),
        Math.round(readOwn + buildOwn + replyOwn - readByHand - buildByHand - replyByHand));
    LOG.info("(sink {}, {} chat)", sink, record.messages().size());
  }

  /**
   * A page of 100 stored chats (offline.page) written by the service and read by the
   * gateway: by hand, through BusJson, and with the reply's own toJson/fromJson.
   */
  @Test
  void offlinePageMapping() {
    List<OfflinePage.Stored> stored = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      stored.add(new OfflinePage.Stored("m" + i, CHAT.copy().put("msgno", "m" + i)));
    }
    OfflinePage.Reply page = new OfflinePage.Reply(stored, false);
    double byHand = nsPerOp("page of 100 by hand", PAGE_ROUNDS, () -> {
      JsonArray json = new JsonArray();
      stored.forEach(s -> json.add(new JsonObject().put("msgno", s.msgno())
          .put("message", s.message())));
      JsonObject body = new JsonObject().put("messages", json).put("more", false);
      int n = 0;
      for (Object item : body.getJsonArray("messages")) {
        n += ((JsonObject) item).getJsonObject("message").size();
      }
      return n;
    });
    double jackson = nsPerOp("page of 100 with BusJson", PAGE_ROUNDS, () ->
        BusJson.fromJson(BusJson.toJson(page), OfflinePage.Reply.class).messages().size());
    double own = nsPerOp("page of 100 with OfflinePage.Reply", PAGE_ROUNDS, () ->
        OfflinePage.Reply.fromJson(page.toJson()).messages().size());
    LOG.info("page of 100 stored chats, over hand mapping: jackson records +{} µs, own "
        + "toJson/fromJson +{} µs", String.format("%.1f", (jackson - byHand) / 1000),
        String.format("%.1f", (own - byHand) / 1000));
  }

  private double nsPerOp(String what, Supplier<Integer> op) {
    return nsPerOp(what, ROUNDS, op);
  }

  private double nsPerOp(String what, int rounds, Supplier<Integer> op) {
    for (int i = 0; i < rounds * 3 / 10; i++) {
      sink += op.get();
    }
    long start = System.nanoTime();
    for (int i = 0; i < rounds; i++) {
      sink += op.get();
    }
    double ns = (System.nanoTime() - start) / (double) rounds;
    LOG.info("{}: {} ns", what, String.format("%.0f", ns));
    return ns;
  }

  /** The service's reading before the records (UserVerticle.append), without the encode. */
  private static List<Object[]> readByHand(JsonObject body) {
    JsonArray items = BusFields.array(body, "messages");
    List<Object[]> appends = new ArrayList<>(items.size());
    for (Object entry : items) {
      if (!(entry instanceof JsonObject item)) {
        throw BusFields.invalid("messages must hold JSON objects");
      }
      JsonObject message = BusFields.object(item, "message");
      String msgno = BusFields.token(message, "msgno", 64);
      List<Integer> pending = BusFields.ids(item, "pending");
      List<Integer> delivered = BusFields.ids(item, "delivered");
      List<Integer> to = BusFields.ids(item, "to");
      Object refusable = item.getValue("refusable");
      if (refusable != null && !(refusable instanceof Boolean)) {
        throw BusFields.invalid("refusable must be true or false");
      }
      int from = BusFields.id(message, "id");
      String conv = "u:" + Math.min(from, BusFields.id(message, "toid")) + ":"
          + Math.max(from, BusFields.id(message, "toid"));
      appends.add(new Object[] {msgno, conv, BusFields.id(message, "id"), pending, delivered,
          to, Boolean.TRUE.equals(refusable)});
    }
    return appends;
  }

  /** The gateway's reading of the reply before the records (MessageStore.send). */
  private static int replyByHand(JsonObject reply) {
    JsonArray results = reply.getJsonArray("results", new JsonArray());
    int n = 0;
    for (int i = 0; i < results.size(); i++) {
      JsonObject result = results.getJsonObject(i);
      for (String field : List.of("stored", "full", "missing")) {
        JsonArray array = result.getJsonArray(field);
        n += array == null ? 0 : array.size();
      }
    }
    return n + new JsonObject().put("results", new JsonArray().add(new JsonObject()
        .put("stored", new JsonArray()).put("full", new JsonArray())
        .put("missing", new JsonArray()))).size();
  }
}
