package chat.presence.reaper;

/**
 * Tells the reaper whether this process stood still lately (SIGSTOP, a VM freeze, a long GC
 * pause). A node that was frozen for longer than the failure detector allows has been declared
 * dead by the others, who already removed its sessions; when it wakes up it sees them as the
 * ones that vanished. Until it has rejoined it must neither remove their sessions nor write
 * their users offline, so the reaper asks {@link #recentlyPaused()} before acting.
 *
 * <p>The node watches for pauses (and restarts itself after a long one); presence only reads
 * the answer.
 */
@FunctionalInterface
public interface PauseSignal {

  /** Never paused: for a process whose pauses nobody watches (tests). */
  PauseSignal NEVER = () -> false;

  /** True while the process is paused or woke from a pause a short while ago. */
  boolean recentlyPaused();
}
