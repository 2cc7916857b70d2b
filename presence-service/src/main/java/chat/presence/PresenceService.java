package chat.presence;

import chat.presence.reaper.PauseDetector;
import chat.presence.reaper.ReaperVerticle;
import com.hazelcast.core.HazelcastInstance;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

/**
 * The presence role of a node. The reaper goes first: it clears what departed nodes and a
 * crashed cluster left behind before this node answers any presence request.
 */
public final class PresenceService {

  /**
   * The Hazelcast member attribute holding a member's node id: the id gateways record in
   * their sessions. A session whose node id no member carries belongs to a departed node.
   */
  public static final String NODE_ATTRIBUTE = "chat.node";

  private PresenceService() {
  }

  public static Future<Void> deploy(Vertx vertx, PresenceConfig config, HazelcastInstance hazelcast,
                                    PauseDetector pauses) {
    return vertx.deployVerticle(new ReaperVerticle(config, hazelcast, pauses))
        .compose(id -> vertx.deployVerticle(new PresenceVerticle(config, hazelcast)))
        .mapEmpty();
  }
}
