package chat.presence.mirror;

import io.vertx.core.Vertx;
import io.vertx.mysqlclient.MySQLBuilder;
import io.vertx.mysqlclient.MySQLConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;

/** The MySQL pool of the state mirror. */
public final class MirrorPool {

  private MirrorPool() {
  }

  public static Pool create(Vertx vertx, String name, String dbUrl, int size) {
    MySQLConnectOptions connect = MySQLConnectOptions.fromUri(dbUrl)
        .setCharset("utf8mb4")
        .setReconnectAttempts(0);
    return MySQLBuilder.pool()
        .with(new PoolOptions().setMaxSize(size).setName(name).setShared(true))
        .connectingTo(connect)
        .using(vertx)
        .build();
  }
}
