package chat.gateway.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** A session's recent msgnos: the last N, oldest forgotten first, whatever the order of adds. */
class RecentMsgnosTest {

  @Test
  void keepsTheLastNAndForgetsTheOldest() {
    RecentMsgnos recent = new RecentMsgnos(100);
    for (int i = 0; i < 250; i++) {
      recent.add("a1b2c3d4e5f60718:" + Integer.toString(i, 36));
    }
    assertEquals(100, recent.size());
    for (int i = 0; i < 250; i++) {
      assertEquals(i >= 150, recent.contains("a1b2c3d4e5f60718:" + Integer.toString(i, 36)),
          "msgno " + i);
    }
    recent.add("a1b2c3d4e5f60718:" + Integer.toString(200, 36));
    assertEquals(100, recent.size(), "a msgno already there is not added again");
    recent.clear();
    assertFalse(recent.contains("a1b2c3d4e5f60718:" + Integer.toString(249, 36)));
    assertEquals(0, recent.size());
  }

  @Test
  void answersAsASetOfTheLastNForAnyMixOfNewAndRepeatedMsgnos() {
    Random random = new Random(7);
    for (int capacity : new int[] {1, 2, 5, 16, 17, 100, 1024}) {
      RecentMsgnos recent = new RecentMsgnos(capacity);
      LinkedHashSet<String> model = new LinkedHashSet<>();
      for (int step = 0; step < 20_000; step++) {
        // few distinct msgnos, so repeats, removals and long probe runs all happen
        String msgno = "n" + random.nextInt(3 * capacity + 3);
        if (random.nextBoolean()) {
          assertEquals(model.contains(msgno), recent.contains(msgno), capacity + "/" + step);
        } else {
          recent.add(msgno);
          if (model.add(msgno) && model.size() > capacity) {
            Iterator<String> oldest = model.iterator();
            oldest.next();
            oldest.remove();
          }
          assertEquals(model.size(), recent.size(), capacity + "/" + step);
        }
      }
      for (String msgno : model) {
        assertTrue(recent.contains(msgno), capacity + ": " + msgno);
      }
    }
  }
}
