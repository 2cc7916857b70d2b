package chat.presence.mirror;

import chat.protocol.config.DbUrl;
import io.vertx.core.Vertx;
import io.vertx.mysqlclient.MySQLBuilder;
import io.vertx.mysqlclient.MySQLConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;

/** The MySQL pool of the state mirror. */
public final class MirrorPool {

  private MirrorPool() {
  }

  /** A pool shared under {@code name} by the verticle's instances. */
  public static Pool create(Vertx vertx, String name, String dbUrl, int size) {
    return MySQLBuilder.pool()
        .with(new PoolOptions().setMaxSize(size).setName(name).setShared(true))
        .connectingTo(connectOptions(DbUrl.parse(dbUrl)))
        .using(vertx)
        .build();
  }

  /**
   * Connect options for the database at {@code url}: utf8mb4, no reconnect of its own (a
   * failed write is retried by the mirror, which knows what to write again), and prepared
   * statements cached per connection. The reconciliation reads every live user's row each
   * round, 500 ids per {@code IN} list: without the cache each read prepared its statement
   * again, and the server's answer describes every one of the 500 parameters (the largest
   * allocation of an idle node, more than all the reads' rows). A cached statement keeps those
   * descriptions (about 100 bytes per parameter), hence lists padded to a few sizes
   * ({@link StateMirror#padded}): the reads of rows and the writes' locking read and UPDATE
   * of 1, 2, 4, ... 512 users are 30 texts at most, all in the cache, and the longest (an
   * UPDATE of 512 users, 13 KB of SQL) under its length limit. With 16 and the default limit
   * of 2,048 characters, the writes of a login storm (batches of any size) prepared both
   * their statements again at nearly every batch.
   */
  public static MySQLConnectOptions connectOptions(DbUrl url) {
    return new MySQLConnectOptions(url.connectOptions())
        .setReconnectAttempts(0)
        .setCachePreparedStatements(true)
        .setPreparedStatementCacheMaxSize(STATEMENTS_CACHED)
        .setPreparedStatementCacheSqlLimit(STATEMENT_CACHE_SQL_LIMIT);
  }

  /** Statement texts each connection keeps prepared. */
  static final int STATEMENTS_CACHED = 32;
  /** The longest statement text kept prepared (an UPDATE of 512 users is about 13,000). */
  static final int STATEMENT_CACHE_SQL_LIMIT = 16_384;
}
