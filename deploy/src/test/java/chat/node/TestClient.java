package chat.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/** A chat client for tests: sends requests and waits for what the server sends back. */
abstract class TestClient implements AutoCloseable {

  static final Duration WAIT = Duration.ofSeconds(10);

  private final BlockingQueue<JsonObject> inbox = new LinkedBlockingQueue<>();
  private final List<JsonObject> everything = Collections.synchronizedList(new ArrayList<>());
  private final CountDownLatch closed = new CountDownLatch(1);
  private final List<Long> receivedNanos = new ArrayList<>();

  abstract void send(JsonObject message);

  @Override
  public abstract void close();

  /** Called by the transport for each message the server sent. */
  protected void received(JsonObject message) {
    synchronized (everything) {
      receivedNanos.add(System.nanoTime());
      everything.add(message);
    }
    inbox.add(message);
  }

  /** Called by the transport when the server closed the connection. */
  protected void ended() {
    closed.countDown();
  }

  /** msgid of ERROR (see the contract's extensions table). */
  static final int ERROR = 104;

  /**
   * The next message with this msgid; messages of other kinds before it are skipped, except an
   * ERROR, which fails the test with its text (unless {@code msgid} is ERROR itself).
   */
  JsonObject expect(int msgid) {
    return expect(m -> m.getInteger("msgid") == msgid, "msgid " + msgid, WAIT);
  }

  /**
   * The next message {@code wanted} accepts within {@code within}; other messages before it are
   * skipped, except an ERROR {@code wanted} does not accept, which fails the test with its text.
   */
  JsonObject expect(Predicate<JsonObject> wanted, String what, Duration within) {
    return await(wanted, what, within, false);
  }

  /**
   * Like {@link #expect(int)}, but ERRORs before the message are skipped too. Only for the
   * few places where an ERROR is a legitimate answer to something sent earlier; each caller
   * says why.
   */
  JsonObject expectAllowingErrors(int msgid) {
    return expectAllowingErrors(m -> m.getInteger("msgid") == msgid, "msgid " + msgid, WAIT);
  }

  /** Like {@link #expect(Predicate, String, Duration)}, but ERRORs before it are skipped too. */
  JsonObject expectAllowingErrors(Predicate<JsonObject> wanted, String what, Duration within) {
    return await(wanted, what, within, true);
  }

  private JsonObject await(Predicate<JsonObject> wanted, String what, Duration within,
      boolean errorsAllowed) {
    long deadline = System.nanoTime() + within.toNanos();
    try {
      while (true) {
        long left = deadline - System.nanoTime();
        JsonObject next = left <= 0 ? null : inbox.poll(left, TimeUnit.NANOSECONDS);
        if (next == null) {
          return fail("no " + what + " within " + within + "; received " + everything);
        }
        if (wanted.test(next)) {
          return next;
        }
        if (!errorsAllowed && Integer.valueOf(ERROR).equals(next.getValue("msgid"))) {
          return fail("ERROR " + next.getValue("errno") + " \"" + next.getValue("errmsg")
              + "\" while waiting for " + what + ": " + next);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** The next message, whatever it is. */
  JsonObject next() {
    return expect(m -> true, "message", WAIT);
  }

  /** Asserts nothing more arrives for a while (used after the expected messages). */
  void expectSilence(Duration during) {
    try {
      JsonObject next = inbox.poll(during.toMillis(), TimeUnit.MILLISECONDS);
      if (next != null) {
        fail("expected nothing, got " + next);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Every message received so far, in order. */
  List<JsonObject> all() {
    synchronized (everything) {
      return List.copyOf(everything);
    }
  }

  /**
   * When ({@link System#nanoTime}) the message matching {@code wanted} after {@code skip}
   * earlier matches arrived; fails if there is none.
   */
  long receivedAt(Predicate<JsonObject> wanted, int skip) {
    synchronized (everything) {
      int seen = 0;
      for (int i = 0; i < everything.size(); i++) {
        if (wanted.test(everything.get(i)) && seen++ == skip) {
          return receivedNanos.get(i);
        }
      }
    }
    return fail("no such message: " + all());
  }

  boolean awaitClosed(Duration within) {
    try {
      return closed.await(within.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  // ---- protocol shortcuts ----

  int register(String name, String password) {
    send(new JsonObject().put("msgid", 4).put("name", name).put("password", password));
    JsonObject ack = expect(5);
    assertEquals(0, ack.getInteger("errno"), () -> "registration failed: " + ack);
    return ack.getInteger("id");
  }

  JsonObject login(int id, String password) {
    send(new JsonObject().put("msgid", 1).put("id", id).put("password", password));
    return expect(2);
  }

  JsonObject loginOk(int id, String password) {
    JsonObject ack = login(id, password);
    assertEquals(0, ack.getInteger("errno"), () -> "login failed: " + ack);
    return ack;
  }

  void chat(int toId, String text) {
    send(new JsonObject().put("msgid", 6).put("toid", toId).put("msg", text));
  }
}
