package chat.protocol.bus.user;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** How many waiting log rows a writer puts in one append. */
class AppendSizesTest {

  @Test
  void everyRowUpToEightThenAtLeastThreeQuartersUpToTheInsertLimit() {
    assertEquals(0, Append.logRowsForOneInsert(0));
    for (int n = 1; n <= 8; n++) {
      assertEquals(n, Append.logRowsForOneInsert(n));
    }
    assertEquals(40, Append.logRowsForOneInsert(43));
    assertEquals(8, Append.logRowsForOneInsert(9));
    assertEquals(Append.LOG_ROWS_PER_INSERT, Append.logRowsForOneInsert(10_000));
    for (int n = 9; n <= 2_000; n++) {
      int k = Append.logRowsForOneInsert(n);
      int capped = Math.min(n, Append.LOG_ROWS_PER_INSERT);
      assertTrue(k <= capped && 4 * k > 3 * capped, n + " -> " + k);
    }
  }
}
