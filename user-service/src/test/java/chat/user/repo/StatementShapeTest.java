package chat.user.repo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import chat.protocol.bus.user.Append;
import io.vertx.sqlclient.SqlConnectOptions;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The statements of a log append come in few shapes, so the connections keep them prepared:
 * a batch of any size is filled up to the next shape, which never takes many more rows.
 */
class StatementShapeTest {

  @Test
  void logInsertsOfOneToTwoHundredRowsHaveFewShapesAndLittlePadding() {
    int max = MessageStore.LOG_ROWS_PER_STATEMENT;
    Set<Integer> shapes = new TreeSet<>();
    for (int n = 1; n <= max; n++) {
      int shape = SqlQueries.rowShape(n, max);
      assertTrue(shape >= n && shape <= max, n + " rows in a statement of " + shape);
      assertTrue(shape - n <= Math.max(0, (n - 1) / 4), n + " rows padded to " + shape);
      shapes.add(shape);
    }
    assertEquals(List.of(1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 28, 32, 40, 48, 56, 64,
        80, 96, 112, 128, 160), List.copyOf(shapes));
    assertThrows(IllegalArgumentException.class, () -> SqlQueries.rowShape(0, max));
    assertThrows(IllegalArgumentException.class, () -> SqlQueries.rowShape(max + 1, max));
  }

  /** The appends a gateway's log writer sends are written with no row repeated. */
  @Test
  void anAppendOfTheSizeWritersTakeIsOneInsertOfItsOwnShape() {
    int max = MessageStore.LOG_ROWS_PER_STATEMENT;
    for (int waiting = 1; waiting <= 2_000; waiting++) {
      int rows = Append.logRowsForOneInsert(waiting);
      assertEquals(rows, SqlQueries.rowShape(rows, max), waiting + " waiting, " + rows + " taken");
    }
  }

  /** Longer statements are never kept prepared by the client: each use prepares one anew. */
  @Test
  void theLongestStatementsStayWithinTheClientsCacheLimit() {
    int limit = SqlConnectOptions.DEFAULT_PREPARED_STATEMENT_CACHE_SQL_LIMIT;
    String insert = SqlQueries.insertMessages(MessageStore.LOG_ROWS_PER_STATEMENT);
    assertTrue(insert.length() <= limit, insert.length() + " characters");
    String users = SqlQueries.existingUsers(MessageStore.IN_LIST_MAX);
    assertTrue(users.length() <= limit, users.length() + " characters");
  }

  @Test
  void inListsArePowersOfTwoUpToTheirLimit() {
    Set<Integer> shapes = new TreeSet<>();
    for (int n = 1; n <= MessageStore.IN_LIST_MAX; n++) {
      int shape = SqlQueries.listShape(n, MessageStore.IN_LIST_MAX);
      assertTrue(shape >= n && shape < 2 * n, n + " ids in a list of " + shape);
      shapes.add(shape);
    }
    assertEquals(List.of(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000), List.copyOf(shapes));
  }

  @Test
  void idListsAreFilledUpWithTheirLastIdInAscendingOrder() {
    TreeSet<Integer> ids = new TreeSet<>();
    for (int i = 1; i <= 1_003; i++) {
      ids.add(i * 7);
    }
    List<List<Integer>> chunks = MessageStore.chunks(ids);
    assertEquals(2, chunks.size());
    assertEquals(1_000, chunks.get(0).size());
    assertEquals(List.of(7_007, 7_014, 7_021, 7_021), chunks.get(1), "3 ids, filled up to 4");
    assertEquals(List.of(List.of(5)), MessageStore.chunks(new TreeSet<>(Set.of(5))));
    assertEquals(List.of(List.of(1, 2, 3, 3)), MessageStore.chunks(new TreeSet<>(Set.of(3, 1, 2))));
  }
}
