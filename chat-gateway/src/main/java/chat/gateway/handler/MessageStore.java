package chat.gateway.handler;

import chat.gateway.GatewayMetrics;
import chat.gateway.bus.ServiceClient;
import chat.protocol.bus.Addresses;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's one sequential writer of the message store: every chat this node stores (for a
 * user who is offline, or one its sessions will never write) and every chat it wrote to a
 * socket (for history) goes through it. At most one append is in flight; whatever queued
 * meanwhile goes in the next one, as one batch. Stores (someone waits for them: a sender's
 * ACK, a closing session) go in the order they were handed over, so one sender's messages
 * are stored in the order they were accepted; history-only appends of chats already written
 * follow, in their order, in whatever room a batch has left, so a history backlog never
 * holds up a sender's ACK (while the store lags, such a chat may take its place in history
 * after chats stored later). An append is idempotent by msgno, so a batch whose answer was
 * lost is simply sent again (a bounded number of times, with backoff) before its entries fail.
 */
public final class MessageStore {

  private static final Logger LOG = LoggerFactory.getLogger(MessageStore.class);
  /**
   * Messages per append: the store writes them one after the other in one transaction, so a
   * batch must stay well within the request timeout on a loaded database.
   */
  private static final int MAX_BATCH = 100;
  /** Write-behind history appends are dropped (logged) beyond this backlog. */
  private static final int MAX_BACKLOG = 100_000;
  private static final long[] BACKOFF_MS = {100, 400, 1_000, 2_000};

  /** What became of one message for its pending users. */
  public record Outcome(Set<Integer> stored, Set<Integer> full, Set<Integer> missing) {
  }

  private record Entry(JsonObject item, Promise<Outcome> done) {
  }

  private final ServiceClient services;
  private final long timeoutMs;
  private final Context context;
  private final boolean history;
  private final ArrayDeque<Entry> queue = new ArrayDeque<>();
  private final ArrayDeque<Entry> historyQueue = new ArrayDeque<>();
  private boolean writing;

  /**
   * @param timeoutMs how long one append may take (a batch: more than a single request)
   * @param context where the writer runs (its own event loop)
   * @param history whether messages delivered live are appended to the log too
   */
  public MessageStore(ServiceClient services, long timeoutMs, Context context, boolean history) {
    this.services = services;
    this.timeoutMs = timeoutMs;
    this.context = context;
    this.history = history;
  }

  /**
   * Stores a message as pending for these users (and as already had by {@code delivered}).
   * Completes on the caller's context with what became of each user; fails when the store
   * did not answer after the retries.
   */
  public Future<Outcome> append(JsonObject message, List<Integer> pending, List<Integer> delivered) {
    ContextInternal caller = ContextInternal.current();
    Promise<Outcome> done = caller != null ? caller.promise() : Promise.promise();
    JsonObject item = new JsonObject().put("message", message)
        .put("pending", new JsonArray(new ArrayList<>(pending)))
        .put("delivered", new JsonArray(new ArrayList<>(delivered)));
    context.runOnContext(v -> enqueue(new Entry(item, done)));
    return done.future().onSuccess(o -> GatewayMetrics.current().offlineStored(o.stored().size()));
  }

  /** Write-behind: a message this node wrote to a user's socket goes to the history log. */
  public void delivered(JsonObject message, int userId) {
    if (!history) {
      return;
    }
    JsonObject item = new JsonObject().put("message", message)
        .put("pending", new JsonArray()).put("delivered", new JsonArray().add(userId));
    context.runOnContext(v -> {
      if (historyQueue.size() >= MAX_BACKLOG) {
        LOG.warn("message store backlog full: history of {} not kept",
            message.getString("msgno"));
        return;
      }
      historyQueue.add(new Entry(item, Promise.promise()));
      if (!writing) {
        writeNext();
      }
    });
  }

  /** Messages waiting for the store (for metrics and tests). */
  public int backlog() {
    return queue.size() + historyQueue.size();
  }

  private void enqueue(Entry entry) {
    queue.add(entry);
    if (!writing) {
      writeNext();
    }
  }

  private void writeNext() {
    if (queue.isEmpty() && historyQueue.isEmpty()) {
      writing = false;
      return;
    }
    writing = true;
    List<Entry> batch = new ArrayList<>(MAX_BATCH);
    while (!queue.isEmpty() && batch.size() < MAX_BATCH) {
      batch.add(queue.poll());
    }
    while (!historyQueue.isEmpty() && batch.size() < MAX_BATCH) {
      batch.add(historyQueue.poll());
    }
    JsonArray messages = new JsonArray();
    batch.forEach(e -> messages.add(e.item()));
    send(batch, new JsonObject().put("messages", messages), 0);
  }

  private void send(List<Entry> batch, JsonObject request, int attempt) {
    services.request(Addresses.USER_MESSAGE_APPEND, request, timeoutMs).onComplete(ar -> {
      if (ar.succeeded()) {
        JsonArray results = ar.result().getJsonArray("results", new JsonArray());
        for (int i = 0; i < batch.size(); i++) {
          JsonObject result = i < results.size() ? results.getJsonObject(i) : new JsonObject();
          batch.get(i).done().tryComplete(new Outcome(ids(result, "stored"), ids(result, "full"),
              ids(result, "missing")));
        }
        writeNext();
      } else if (attempt < BACKOFF_MS.length && ServiceClient.isRetryLater(ar.cause())) {
        LOG.warn("message store did not take {} messages ({}); retry {} in {} ms", batch.size(),
            ar.cause().getMessage(), attempt + 1, BACKOFF_MS[attempt]);
        context.owner().setTimer(BACKOFF_MS[attempt], t -> send(batch, request, attempt + 1));
      } else {
        LOG.error("message store failed {} messages: {}", batch.size(), ar.cause().getMessage());
        batch.forEach(e -> e.done().tryFail(ar.cause()));
        writeNext();
      }
    });
  }

  private static Set<Integer> ids(JsonObject result, String field) {
    Set<Integer> ids = new TreeSet<>();
    JsonArray array = result.getJsonArray(field);
    if (array != null) {
      for (int i = 0; i < array.size(); i++) {
        ids.add(array.getInteger(i));
      }
    }
    return ids;
  }
}
