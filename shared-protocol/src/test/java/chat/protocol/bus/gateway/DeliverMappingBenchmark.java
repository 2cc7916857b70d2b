package chat.protocol.bus.gateway;

import chat.protocol.bus.BusJson;
import chat.protocol.bus.presence.Located;
import chat.protocol.bus.presence.SessionAt;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What mapping a deliver body costs for a typical chat, three ways: by hand (JsonObject
 * put/get, as before the records), the record through {@link BusJson} (Jackson), and the
 * record's own {@link Deliver#toJson()} / {@link Deliver#fromJson(JsonObject)}. The sender
 * builds the body, the local event bus copies it, the receiving node reads it and builds the
 * reply, which the bus copies back (its sender only looks at whether it succeeded). Also the
 * locate reply a chat's sender reads (by hand and through BusJson). Not a test of any limit
 * (the machine may be busy): it logs the best ns per message of each. Run with
 * {@code mvn -q -o -B -pl shared-protocol test -Dtest=DeliverMappingBenchmark -Dbench=true}.
 */
@EnabledIfSystemProperty(named = "bench", matches = "true")
class DeliverMappingBenchmark {

  private static final Logger LOG = LoggerFactory.getLogger(DeliverMappingBenchmark.class);
  private static final int ROUNDS = 15;
  private static final int WARM_UP_ROUNDS = 3;
  private static final int PER_ROUND = 50_000;

  private static final JsonObject CHAT = new JsonObject().put("msgid", 6).put("id", 13)
      .put("name", "zhang san").put("toid", 14).put("msg", "hello there, how are you today?")
      .put("time", "2026-12-01 17:20:30").put("msgno", "node-1-1733073630-42");

  private static long sink;

  /** ns per call of one round. */
  private static double round(Supplier<Object> work) {
    long start = System.nanoTime();
    for (int i = 0; i < PER_ROUND; i++) {
      sink += System.identityHashCode(work.get()) & 1;
    }
    return (System.nanoTime() - start) / (double) PER_ROUND;
  }

  /**
   * The best round of each way (ns per call): the ways run in turn, round after round, so a
   * busy machine slows them alike, and the best round is the one least disturbed.
   */
  private static double[] best(List<Supplier<Object>> ways) {
    double[] best = new double[ways.size()];
    Arrays.fill(best, Double.MAX_VALUE);
    for (int r = 0; r < WARM_UP_ROUNDS + ROUNDS; r++) {
      for (int i = 0; i < ways.size(); i++) {
        double ns = round(ways.get(i));
        if (r >= WARM_UP_ROUNDS) {
          best[i] = Math.min(best[i], ns);
        }
      }
    }
    return best;
  }

  private static long deadline() {
    return System.currentTimeMillis() + 4000;
  }

  // ---- by hand, as the gateway did before the records ----

  private static JsonObject sendByHand() {
    return new JsonObject().put("userId", 14).put("sessionId", "node-1:42")
        .put("deadline", deadline()).put("payload", CHAT);
  }

  private static Object readByHand(JsonObject body) {
    int userId = body.getInteger("userId");
    String sessionId = body.getString("sessionId");
    Long deadline = body.getLong("deadline");
    JsonObject payload = body.getJsonObject("payload");
    return new Object[] {userId, sessionId, deadline, payload};
  }

  private static Object exchangeByHand() {
    readByHand(sendByHand().copy());
    return new JsonObject().put("delivered", 1).copy();
  }

  // ---- the record through BusJson ----

  private static JsonObject sendWithBusJson() {
    return BusJson.toJson(new Deliver(14, CHAT, "node-1:42", deadline()));
  }

  private static Object exchangeWithBusJson() {
    BusJson.fromJson(sendWithBusJson().copy(), Deliver.class);
    return BusJson.toJson(new Deliver.Reply(1)).copy();
  }

  // ---- the record's own toJson / fromJson ----

  private static JsonObject sendWithRecord() {
    return new Deliver(14, CHAT, "node-1:42", deadline()).toJson();
  }

  private static Object exchangeWithRecord() {
    Deliver.fromJson(sendWithRecord().copy());
    return new Deliver.Reply(1).toJson().copy();
  }

  // ---- locate ----

  /** Presence's locate reply for users 14.. (one session each), as the local bus hands it over. */
  private static JsonObject locatedReply(int users) {
    Map<String, List<SessionAt>> sessions = new HashMap<>();
    for (int i = 0; i < users; i++) {
      sessions.put(String.valueOf(14 + i), List.of(new SessionAt("node-1:" + i, "node-1")));
    }
    return BusJson.toJson(new Located(sessions)).copy();
  }

  /** As the gateway's Delivery read it before the records. */
  private static Object locateByHand(JsonObject reply, int users) {
    JsonObject sessions = reply.getJsonObject("sessions", new JsonObject());
    List<SessionAt> found = new ArrayList<>();
    for (int i = 0; i < users; i++) {
      JsonArray refs = sessions.getJsonArray(String.valueOf(14 + i));
      for (int j = 0; refs != null && j < refs.size(); j++) {
        JsonObject ref = refs.getJsonObject(j);
        found.add(new SessionAt(ref.getString("sessionId"), ref.getString("nodeId")));
      }
    }
    return found;
  }

  private static Object locateWithBusJson(JsonObject reply, int users) {
    Located located = BusJson.fromJson(reply, Located.class);
    List<SessionAt> found = new ArrayList<>();
    for (int i = 0; i < users; i++) {
      found.addAll(located.of(14 + i));
    }
    return found;
  }

  @Test
  void deliverMappingCost() {
    JsonObject handBody = sendByHand().copy();
    JsonObject busJsonBody = sendWithBusJson().copy();
    JsonObject recordBody = sendWithRecord().copy();
    log("deliver: build the request", best(List.of(DeliverMappingBenchmark::sendByHand,
        DeliverMappingBenchmark::sendWithBusJson, DeliverMappingBenchmark::sendWithRecord)));
    log("deliver: read the request", best(List.of(() -> readByHand(handBody),
        () -> BusJson.fromJson(busJsonBody, Deliver.class), () -> Deliver.fromJson(recordBody))));
    log("deliver: whole exchange (build, bus copy, read, reply, bus copy)", best(List.of(
        DeliverMappingBenchmark::exchangeByHand, DeliverMappingBenchmark::exchangeWithBusJson,
        DeliverMappingBenchmark::exchangeWithRecord)));
    JsonObject one = locatedReply(1);
    JsonObject group = locatedReply(20);
    log("locate reply, 1 user", best(List.of(() -> locateByHand(one, 1),
        () -> locateWithBusJson(one, 1))));
    log("locate reply, 20 users (a group chat)", best(List.of(() -> locateByHand(group, 20),
        () -> locateWithBusJson(group, 20))));
    LOG.debug("sink {}", sink);
  }

  private static void log(String step, double[] ns) {
    LOG.info("{}: by hand {} ns, BusJson {} ns (+{}){}", step, Math.round(ns[0]),
        Math.round(ns[1]), Math.round(ns[1] - ns[0]), ns.length < 3 ? ""
            : ", Deliver.toJson/fromJson " + Math.round(ns[2]) + " ns (+"
                + Math.round(ns[2] - ns[0]) + ")");
  }
}
