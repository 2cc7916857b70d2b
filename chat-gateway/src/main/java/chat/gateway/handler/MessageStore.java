package chat.gateway.handler;

import chat.gateway.GatewayMetrics;
import chat.gateway.bus.ServiceClient;
import chat.protocol.bus.Addresses;
import chat.protocol.bus.FailureCodes;
import chat.protocol.bus.ServiceFailure;
import chat.protocol.bus.user.Append;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.json.JsonObject;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's one sequential writer of the message store. Every chat this node accepts goes
 * to the message log through it before it is delivered or answered ({@link #log}), and every
 * chat it stores for users who will get it later ({@link #append}: a recipient offline, a
 * delivery refused, a closing session's unwritten chats, group members not reached). At most
 * one append is in flight; whatever was handed over meanwhile goes in the next one, as one
 * batch, in the order handed over. So the log order of this node's chats is their accept
 * order, and a chat accepted (and answered) before another one, on whatever node, is before
 * it in the log. An append is idempotent by msgno: storing an already logged chat for its
 * pending users only adds their mailbox rows, which are read in log order. A batch whose
 * answer was lost is simply sent again (a bounded number of times, with backoff) before its
 * entries fail.
 *
 * <p>A chat is handed over without a task on the writer's event loop: it waits in a queue that
 * the writer reads when its append is answered, and only a writer with nothing in flight is
 * woken (once for whatever was handed over meanwhile), so sessions on other event loops do not
 * wake it at every chat.
 *
 * <p>When the user service runs in this process, a batch is handed to it as the {@link Append}
 * record itself (the {@link ServiceClient}'s record request) and answered with the
 * {@link Append.Reply} record: no JSON body is built, copied and read back per chat.
 * Otherwise, or when no user service is here, the batch goes as JSON to one anywhere in the
 * cluster.
 *
 * <p>A batch that still fails after its retries marks the store down: for the next
 * {@value #DOWN_MS} ms whatever is handed over fails at once (the callers answer 503 or, for
 * a chat to a user known to exist, deliver it live: {@link #logLater}), then one batch is
 * tried without retries, and so on until one succeeds. Chats delivered while the store was
 * down are logged once it is back, in this node's accept order, before anything newer.
 */
public final class MessageStore {

  private static final Logger LOG = LoggerFactory.getLogger(MessageStore.class);
  /**
   * Messages with pending users per append: the store writes those one after the other in one
   * transaction, so a batch must stay well within the request timeout on a loaded database.
   */
  private static final int MAX_STORES = 100;
  /**
   * Messages per append: chats only logged (accepts) cost the store one multi-row insert per
   * 160, so a batch takes every chat accepted while the previous one was written, up to this
   * many and {@value #MAX_BATCH_CHARS} characters of chat text.
   */
  private static final int MAX_BATCH = Append.MAX_MESSAGES;
  private static final long MAX_BATCH_CHARS = 1L << 20;
  private static final long[] BACKOFF_MS = {100, 400, 1_000, 2_000};
  private static final Outcome NOTHING = new Outcome(Set.of(), Set.of(), Set.of());
  private static final Append.Result NO_RESULT = new Append.Result(null, null, null);
  /** How long the store counts as down after a batch failed for good. */
  static final long DOWN_MS = 1_000;
  /** Chats delivered while the store was down and not yet logged, at most. */
  private static final int MAX_DEFERRED = 100_000;

  /** What became of one message for its pending users (or its recipients, when logged). */
  public record Outcome(Set<Integer> stored, Set<Integer> full, Set<Integer> missing) {
  }

  private record Entry(Append.Item item, Promise<Outcome> done, boolean deferred) {
    Entry(Append.Item item, Promise<Outcome> done) {
      this(item, done, false);
    }
  }

  private final ServiceClient services;
  private final long timeoutMs;
  private final Context context;
  private final boolean history;
  /** Handed over from any thread, not yet taken by the writer. */
  private final ConcurrentLinkedQueue<Entry> handedOver = new ConcurrentLinkedQueue<>();
  /**
   * Whether the writer will read {@link #handedOver} without being woken: an append is in
   * flight or a wake-up is already on its way.
   */
  private final AtomicBoolean awake = new AtomicBoolean();
  /** Taken from {@link #handedOver}, waiting for an append (writer's event loop only). */
  private final ArrayDeque<Entry> queue = new ArrayDeque<>();
  /** Chats delivered while the store was down, to log once it is back. */
  private final ArrayDeque<Entry> deferred = new ArrayDeque<>();
  private boolean writing;
  /** Until when (nanoTime) the store counts as down; meaningful while {@code down}. */
  private long downUntil;
  private boolean down;
  private boolean probeScheduled;

  /**
   * @param timeoutMs how long one append may take (a batch: more than a single request)
   * @param context where the writer runs (its own event loop)
   * @param history whether accepted chats are logged for history ({@code CHAT_HISTORY_DAYS} &gt; 0)
   */
  public MessageStore(ServiceClient services, long timeoutMs, Context context, boolean history) {
    this.services = services;
    this.timeoutMs = timeoutMs;
    this.context = context;
    this.history = history;
  }

  /**
   * Logs a chat this node has just accepted, before anyone gets it; {@code recipients} must
   * exist (else it is not logged and they come back as missing). {@code text} is the chat's
   * compact JSON text when the caller made it already (the user service of this process then
   * does not encode it again), else null. Completes on the caller's
   * context; fails when the store did not answer after the retries (then it was not logged
   * unless a lost answer hid it). Without history, completes at once and logs nothing.
   */
  public Future<Outcome> log(JsonObject message, String text, List<Integer> recipients) {
    if (!history) {
      return Future.succeededFuture(NOTHING);
    }
    Append.Item item;
    try {
      item = Append.Item.log(message, text, recipients);
    } catch (ServiceFailure refused) {
      return Future.failedFuture(refused);
    }
    return enqueue(item);
  }

  /**
   * Stores a message as pending for these users. With {@code refusable}, the sender has not
   * been answered yet: when no user takes it (full, missing), it leaves the log again.
   * Completes on the caller's context with what became of each user; fails when the store
   * did not answer after the retries.
   */
  public Future<Outcome> append(JsonObject message, List<Integer> pending, boolean refusable) {
    Append.Item item;
    try {
      item = Append.Item.store(message, pending, refusable);
    } catch (ServiceFailure refused) {
      return Future.failedFuture(refused);
    }
    return enqueue(item)
        .onSuccess(o -> GatewayMetrics.current().offlineStored(o.stored().size()));
  }

  /**
   * Logs, once the store is back, a chat that was delivered while it was down (its log
   * append failed): after the chats deferred before it, before anything handed over later.
   * Beyond {@value #MAX_DEFERRED} such chats, they are delivered but not kept in history.
   */
  public void logLater(JsonObject message) {
    if (!history) {
      return;
    }
    Append.Item item;
    try {
      item = Append.Item.log(message, List.of());
    } catch (ServiceFailure refused) {
      LOG.warn("chat {} delivered but not kept in history: {}", message.getValue("msgno"),
          refused.getMessage());
      return;
    }
    context.runOnContext(v -> {
      if (deferred.size() >= MAX_DEFERRED) {
        LOG.warn("message store down: chat {} delivered but not kept in history",
            message.getString("msgno"));
        return;
      }
      deferred.add(new Entry(item, Promise.promise(), true));
      if (!writing) {
        writeNext();
      }
    });
  }

  /** Messages waiting for the store (for metrics and tests). */
  public int backlog() {
    return handedOver.size() + queue.size() + deferred.size();
  }

  private Future<Outcome> enqueue(Append.Item item) {
    ContextInternal caller = ContextInternal.current();
    Promise<Outcome> done = caller != null ? caller.promise() : Promise.promise();
    handedOver.add(new Entry(item, done));
    if (awake.compareAndSet(false, true)) {
      context.runOnContext(v -> {
        if (!writing) {
          writeNext();
        }
      });
    }
    return done.future();
  }

  /** Sends the next append, if anything waits; else the writer sleeps until handed more. */
  private void writeNext() {
    while (true) {
      for (Entry e; (e = handedOver.poll()) != null; ) {
        queue.add(e);
      }
      if (sendNext()) {
        return;
      }
      writing = false;
      awake.set(false);
      // what was handed over as the writer went to sleep, unless its wake-up is on its way
      if (handedOver.isEmpty() || !awake.compareAndSet(false, true)) {
        return;
      }
    }
  }

  /** Whether an append was sent (its answer makes the writer read what was handed over). */
  private boolean sendNext() {
    if (queue.isEmpty() && deferred.isEmpty()) {
      return false;
    }
    if (down && System.nanoTime() < downUntil) {
      // Nothing is sent meanwhile: what waits fails at once, the deferred chats wait.
      while (!queue.isEmpty()) {
        queue.poll().done().tryFail(unavailable());
      }
      scheduleProbe();
      return false;
    }
    writing = true;
    awake.set(true);
    List<Entry> batch = new ArrayList<>();
    BatchLimit limit = new BatchLimit();
    while (!deferred.isEmpty() && limit.takes(deferred.peek())) {
      batch.add(deferred.poll());
    }
    while (!queue.isEmpty() && limit.takes(queue.peek())) {
      batch.add(queue.poll());
    }
    if (limit.stores == 0) {
      // log rows only: as many as the store writes in one insert without filling it up with
      // repeated rows (Append.logRowsForOneInsert); the rest wait, in order, for the next one
      int keep = Append.logRowsForOneInsert(batch.size());
      for (int i = batch.size() - 1; i >= keep; i--) {
        Entry back = batch.remove(i);
        (back.deferred() ? deferred : queue).addFirst(back);
      }
    }
    List<Append.Item> items = new ArrayList<>(batch.size());
    batch.forEach(e -> items.add(e.item()));
    // While down, one try tells whether the store is back.
    send(batch, new Append(items), down ? BACKOFF_MS.length : 0);
    return true;
  }

  /** What one append may still take: the first entry always, then within the limits. */
  private static final class BatchLimit {
    private int messages;
    private int stores;
    private long chars;

    boolean takes(Entry entry) {
      Append.Item item = entry.item();
      boolean store = !item.pending().isEmpty() || !item.delivered().isEmpty();
      long text = item.message().getValue("msg") instanceof String msg ? msg.length() : 0;
      if (messages > 0 && (messages == MAX_BATCH || (store && stores == MAX_STORES)
          || chars + text > MAX_BATCH_CHARS)) {
        return false;
      }
      messages++;
      stores += store ? 1 : 0;
      chars += text;
      return true;
    }
  }

  private void scheduleProbe() {
    if (probeScheduled) {
      return;
    }
    probeScheduled = true;
    long waitMs = Math.max(1, (downUntil - System.nanoTime()) / 1_000_000);
    context.owner().setTimer(waitMs, t -> context.runOnContext(v -> {
      probeScheduled = false;
      if (!writing) {
        writeNext();
      }
    }));
  }

  private static Throwable unavailable() {
    return new ReplyException(ReplyFailure.RECIPIENT_FAILURE, FailureCodes.DATABASE_UNAVAILABLE,
        "message store unavailable");
  }

  private void send(List<Entry> batch, Append request, int attempt) {
    request(request).onComplete(ar -> {
      if (ar.succeeded()) {
        if (down) {
          LOG.info("message store back; {} chats delivered meanwhile to log", deferred.size());
          down = false;
        }
        List<Append.Result> results = ar.result().results();
        for (int i = 0; i < batch.size(); i++) {
          Append.Result result = i < results.size() ? results.get(i) : NO_RESULT;
          batch.get(i).done().tryComplete(outcome(result));
        }
        writeNext();
      } else if (attempt < BACKOFF_MS.length && ServiceClient.isRetryLater(ar.cause())) {
        LOG.warn("message store did not take {} messages ({}); retry {} in {} ms", batch.size(),
            ar.cause().getMessage(), attempt + 1, BACKOFF_MS[attempt]);
        context.owner().setTimer(BACKOFF_MS[attempt], t -> send(batch, request, attempt + 1));
      } else {
        if (!down) {
          LOG.error("message store failed {} messages: {}; down for {} ms", batch.size(),
              ar.cause().getMessage(), DOWN_MS);
        }
        if (ServiceClient.isRetryLater(ar.cause())) {
          down = true;
          downUntil = System.nanoTime() + DOWN_MS * 1_000_000;
        }
        // Deferred chats go back where they were, in order; the others fail.
        for (int i = batch.size() - 1; i >= 0; i--) {
          Entry e = batch.get(i);
          if (!e.deferred()) {
            e.done().tryFail(ar.cause());
          } else {
            deferred.addFirst(e);
          }
        }
        writeNext();
      }
    });
  }

  /**
   * The append, to the user service of this process as the record itself when there is one,
   * else as JSON to one in the cluster.
   */
  private Future<Append.Reply> request(Append request) {
    return services.request(Addresses.USER_MESSAGE_APPEND, request, Append::toJson,
        Append.Reply.class, MessageStore::results, timeoutMs);
  }

  /** A chat only logged (nothing stored, full or missing) shares one outcome. */
  private static Outcome outcome(Append.Result result) {
    if (result.stored().isEmpty() && result.full().isEmpty() && result.missing().isEmpty()) {
      return NOTHING;
    }
    return new Outcome(new TreeSet<>(result.stored()), new TreeSet<>(result.full()),
        new TreeSet<>(result.missing()));
  }

  private static Append.Reply results(JsonObject body) {
    try {
      return Append.Reply.fromJson(body);
    } catch (ServiceFailure e) {
      // the store broke the contract: an internal error, not the client's
      throw new IllegalStateException("message store answered no results: " + e.getMessage());
    }
  }
}
