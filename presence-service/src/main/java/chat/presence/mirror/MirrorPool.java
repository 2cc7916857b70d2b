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
   * ({@link StateMirror#rows}) and a small cache.
   */
  public static MySQLConnectOptions connectOptions(DbUrl url) {
    return new MySQLConnectOptions(url.connectOptions())
        .setReconnectAttempts(0)
        .setCachePreparedStatements(true)
        .setPreparedStatementCacheMaxSize(16);
  }
}
