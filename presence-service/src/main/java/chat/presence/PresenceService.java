package chat.presence;

import chat.presence.config.PresenceConfig;
import chat.presence.reaper.PauseSignal;
import chat.presence.schema.PresenceSchema;
import chat.presence.reaper.ReaperVerticle;
import chat.presence.store.PresenceSerializers;
import com.hazelcast.config.Config;
import com.hazelcast.core.HazelcastInstance;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.function.BooleanSupplier;

/**
 * The presence role of a node. Presence's own migrations go first (the columns of
 * {@code user} it writes, see {@link PresenceSchema}; user-service's migration, which creates
 * the table, must have run). Then the reaper: it clears what departed nodes and a crashed
 * cluster left behind before this node answers any presence request.
 */
public final class PresenceService {

  private PresenceService() {
  }

  /**
   * What presence needs in the configuration of every Hazelcast member of the cluster: the
   * serializers of the online map's values (see {@link PresenceSerializers}).
   */
  public static void configureCluster(Config hazelcast) {
    PresenceSerializers.register(hazelcast.getSerializationConfig());
  }

  /** Deploys presence on a node whose side of the cluster may always sweep (no quorum rule). */
  public static Future<Void> deploy(Vertx vertx, PresenceConfig config, HazelcastInstance hazelcast,
                                    PauseSignal pauses) {
    return deploy(vertx, config, hazelcast, pauses, () -> true);
  }

  /**
   * Deploys presence.
   *
   * @param maySweep asked before every removal of other nodes' sessions and every repair of
   *                 the map or the rows (node-loss sweeps, digest repairs, the database
   *                 reconciliation): false while this side of the cluster must not act on
   *                 others (it lost its quorum). This node's own requests (logins, logouts,
   *                 its drain) are not gated.
   */
  public static Future<Void> deploy(Vertx vertx, PresenceConfig config, HazelcastInstance hazelcast,
                                    PauseSignal pauses, BooleanSupplier maySweep) {
    return vertx.executeBlocking(() -> {
          PresenceSchema.migrate(config.dbUrl());
          return null;
        })
        .compose(v -> vertx.deployVerticle(new ReaperVerticle(config, hazelcast, pauses, maySweep)))
        .compose(id -> vertx.deployVerticle(new PresenceVerticle(config, hazelcast)))
        .mapEmpty();
  }
}
