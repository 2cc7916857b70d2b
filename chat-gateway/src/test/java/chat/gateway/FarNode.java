package chat.gateway;

import chat.protocol.bus.Addresses;
import chat.protocol.bus.gateway.DeliverBatch;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * A fake other node's delivery consumer: each item of a batch goes to {@code item} (its body
 * {userId, sessionId, payload}), in order, and the batch is answered once every item is.
 */
final class FarNode {

  private FarNode() {
  }

  static MessageConsumer<Buffer> deliveries(Vertx vertx, String nodeId,
                                            Function<JsonObject, Future<Boolean>> item) {
    return vertx.eventBus().consumer(Addresses.gatewayDeliverBatch(nodeId),
        (Message<Buffer> msg) -> {
          List<Future<Boolean>> answers = new ArrayList<>();
          for (Object each : items(msg)) {
            answers.add(item.apply((JsonObject) each));
          }
          Future.all(answers).onComplete(all -> {
            List<Boolean> taken = new ArrayList<>();
            answers.forEach(a -> taken.add(Boolean.TRUE.equals(a.result())));
            reply(msg, taken);
          });
        });
  }

  /** The items of a batch a node sent, each as {userId, sessionId, payload}. */
  static JsonArray items(Message<Buffer> msg) {
    JsonArray items = new JsonArray();
    for (DeliverBatch.Item item : DeliverBatch.fromBuffer(msg.body()).items()) {
      items.add(new JsonObject().put("userId", item.userId()).put("sessionId", item.sessionId())
          .put("payload", new JsonObject(item.text())));
    }
    return items;
  }

  /** Answers a batch: per item, whether it was taken. */
  static void reply(Message<Buffer> msg, List<Boolean> taken) {
    msg.reply(new DeliverBatch.Reply(taken).toBuffer());
  }

  /** Every item taken at once. */
  static MessageConsumer<Buffer> takingAll(Vertx vertx, String nodeId,
                                               java.util.function.Consumer<JsonObject> seen) {
    return deliveries(vertx, nodeId, item -> {
      seen.accept(item);
      return Future.succeededFuture(true);
    });
  }
}
