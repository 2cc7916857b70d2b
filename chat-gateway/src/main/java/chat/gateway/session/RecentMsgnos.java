package chat.gateway.session;

/**
 * The last {@code capacity} msgnos a session had, oldest forgotten first, kept as 64-bit
 * fingerprints in two arrays: no object per msgno (a busy session's window costs 24 bytes a
 * msgno, and gives the garbage collector no old-to-young references to scan at every chat).
 * The arrays are made on first use and grow up to the capacity, so a session that never gets
 * a chat holds none. Two msgnos are taken for one only if their 64-bit fingerprints are equal.
 * One thread at a time (the session's event loop).
 */
final class RecentMsgnos {

  private static final int FIRST_SIZE = 16;

  private final int capacity;
  /** The fingerprints in the order added: {@code count} of them from {@code head}, circular. */
  private long[] order;
  private int head;
  private int count;
  /** Open addressing with linear probing, a power of two over twice the order's size; 0 is free. */
  private long[] slots;

  RecentMsgnos(int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be positive: " + capacity);
    }
    this.capacity = capacity;
  }

  boolean contains(String msgno) {
    return count > 0 && indexOf(fingerprint(msgno)) >= 0;
  }

  /** Adds the msgno unless it is there; past the capacity the oldest one is forgotten. */
  void add(String msgno) {
    long f = fingerprint(msgno);
    if (order == null) {
      order = new long[Math.min(FIRST_SIZE, capacity)];
      slots = new long[slotsFor(order.length)];
    } else if (indexOf(f) >= 0) {
      return;
    }
    if (count == order.length) {
      if (order.length < capacity) {
        grow();
      } else {
        remove(order[head]);
        head = (head + 1) % order.length;
        count--;
      }
    }
    order[(head + count) % order.length] = f;
    count++;
    insert(f);
  }

  int size() {
    return count;
  }

  void clear() {
    order = null;
    slots = null;
    head = 0;
    count = 0;
  }

  private void grow() {
    long[] bigger = new long[Math.min(2 * order.length, capacity)];
    for (int i = 0; i < count; i++) {
      bigger[i] = order[(head + i) % order.length];
    }
    order = bigger;
    head = 0;
    slots = new long[slotsFor(bigger.length)];
    for (int i = 0; i < count; i++) {
      insert(order[i]);
    }
  }

  /** A power of two at least twice the entries: probe runs stay short and end at a free slot. */
  private static int slotsFor(int entries) {
    return Integer.highestOneBit(2 * entries - 1) << 1;
  }

  private int indexOf(long f) {
    int mask = slots.length - 1;
    for (int i = home(f, mask); ; i = (i + 1) & mask) {
      long s = slots[i];
      if (s == f) {
        return i;
      }
      if (s == 0) {
        return -1;
      }
    }
  }

  private void insert(long f) {
    int mask = slots.length - 1;
    int i = home(f, mask);
    while (slots[i] != 0) {
      i = (i + 1) & mask;
    }
    slots[i] = f;
  }

  /** Removes by shifting back the entries after it in its run (no tombstones). */
  private void remove(long f) {
    int mask = slots.length - 1;
    int hole = indexOf(f);
    if (hole < 0) {
      return;
    }
    for (int i = (hole + 1) & mask; slots[i] != 0; i = (i + 1) & mask) {
      int home = home(slots[i], mask);
      // the entry at i may move into the hole when its home is not in (hole, i], circularly
      boolean stays = hole <= i ? (hole < home && home <= i) : (hole < home || home <= i);
      if (!stays) {
        slots[hole] = slots[i];
        hole = i;
      }
    }
    slots[hole] = 0;
  }

  private static int home(long f, int mask) {
    return (int) (f ^ (f >>> 32)) & mask;
  }

  /** 64-bit FNV-1a of the characters, then mixed; never 0 (the free slot). */
  static long fingerprint(String msgno) {
    long h = 0xcbf29ce484222325L;
    for (int i = 0; i < msgno.length(); i++) {
      h ^= msgno.charAt(i);
      h *= 0x100000001b3L;
    }
    h ^= h >>> 33;
    h *= 0xff51afd7ed558ccdL;
    h ^= h >>> 33;
    return h == 0 ? 1 : h;
  }
}
