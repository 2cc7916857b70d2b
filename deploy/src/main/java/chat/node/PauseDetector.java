package chat.node;

import chat.presence.reaper.PauseSignal;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.LongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Notices when this whole process stood still (SIGSTOP, a VM freeze, a long GC pause). A node
 * that was frozen for longer than the failure detector allows has been declared dead by the
 * others, who have already removed its sessions; when it wakes up it sees them as the ones
 * that vanished. Until it has rejoined, it must neither remove their sessions nor write
 * their users offline: presence's reaper asks {@link #recentlyPaused()} before acting. After a
 * pause long enough to have lost its membership, the node restarts its cluster side
 * ({@link #onPause}).
 *
 * <p>A plain daemon thread ticks every {@value #TICK_MS} ms; a tick that comes much later
 * than due means the process was paused.
 */
public final class PauseDetector implements PauseSignal, AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(PauseDetector.class);
  private static final long TICK_MS = 200;
  private static final long PAUSE_MS = 1_500;
  private static final long QUARANTINE_MS = 30_000;

  private final Thread thread;
  private final CopyOnWriteArrayList<LongConsumer> listeners = new CopyOnWriteArrayList<>();
  private volatile long lastTickNanos = System.nanoTime();
  private volatile long lastPauseEndNanos = System.nanoTime() - QUARANTINE_MS * 2_000_000;
  private volatile boolean running = true;

  public PauseDetector() {
    thread = new Thread(this::run, "chat-pause-detector");
    thread.setDaemon(true);
    thread.start();
  }

  /** Called with the length of each pause (ms) noticed, on the detector's thread. */
  public void onPause(LongConsumer listener) {
    listeners.add(listener);
  }

  /**
   * True while the process is paused or woke from a pause within the last 30 s: its view of
   * the cluster is not to be trusted for removing others.
   */
  @Override
  public boolean recentlyPaused() {
    long now = System.nanoTime();
    return now - lastTickNanos > PAUSE_MS * 1_000_000
        || now - lastPauseEndNanos < QUARANTINE_MS * 1_000_000;
  }

  private void run() {
    while (running) {
      try {
        Thread.sleep(TICK_MS);
      } catch (InterruptedException e) {
        return;
      }
      long now = System.nanoTime();
      long gapMs = (now - lastTickNanos) / 1_000_000;
      lastTickNanos = now;
      if (gapMs > PAUSE_MS) {
        lastPauseEndNanos = now;
        LOG.warn("this process stood still for {} ms", gapMs);
        listeners.forEach(l -> l.accept(gapMs));
      }
    }
  }

  @Override
  public void close() {
    running = false;
    thread.interrupt();
  }
}
