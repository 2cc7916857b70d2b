package chat.presence.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import chat.presence.store.Outcomes.Aligned;
import chat.presence.store.Outcomes.Connected;
import chat.presence.store.Outcomes.Removed;
import chat.presence.store.Outcomes.Restored;
import chat.protocol.bus.LoginPolicy;
import com.hazelcast.config.Config;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.internal.serialization.SerializationService;
import com.hazelcast.spi.impl.SerializationServiceSupport;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The online map's values, its entry processors and their results go through presence's own
 * serializers (not Java serialization) and come back equal, every field included.
 */
@Timeout(60)
class PresenceSerializersTest {

  private static HazelcastInstance member;
  private static SerializationService serialization;

  @BeforeAll
  static void start() {
    Config config = new Config().setClusterName("serializers-" + UUID.randomUUID());
    config.setProperty("hazelcast.logging.type", "slf4j");
    config.setProperty("hazelcast.phone.home.enabled", "false");
    config.getNetworkConfig().setPort(0).getJoin().getMulticastConfig().setEnabled(false);
    config.getNetworkConfig().getJoin().getAutoDetectionConfig().setEnabled(false);
    PresenceSerializers.register(config.getSerializationConfig());
    member = Hazelcast.newHazelcastInstance(config);
    serialization = ((SerializationServiceSupport) member).getSerializationService();
  }

  @AfterAll
  static void stop() {
    member.shutdown();
  }

  private static final SessionRef TCP = new SessionRef("c1-1", "node-a", "tcp", 1_700_000_000_000L, 41);
  private static final SessionRef WS = new SessionRef("c2-7", "node-b", "ws", 1_700_000_000_123L, 9);

  @Test
  void everyValueProcessorAndResultComesBackEqual() {
    List<Object> values = List.of(
        new UserSessions(List.of(TCP, WS), 12, List.of("c0-1", "c0-2")),
        new UserSessions(List.of(), UserSessions.UNSEEDED, List.of()),
        new Connected(false, true, 13, List.of(WS), false, false),
        new Connected(true, false, -1, List.of(), true, true),
        new Removed(2, true, 14, "node-b"),
        new Removed(0, false, 0, null),
        new Restored(1, true, 15, List.of("c3-1"), false),
        new Restored(0, false, -1, List.of(), true),
        new Aligned(true, false, 16),
        new Aligned(false, true, 0),
        new SessionProcessors.Connect(WS, LoginPolicy.REJECT, 17),
        new SessionProcessors.Connect(TCP, LoginPolicy.KICK, -1),
        new SessionProcessors.Disconnect("c1-1"),
        new SessionProcessors.DropNodes(Set.of("node-a", "node-b")),
        new SessionProcessors.DropNode("node-c"),
        new SessionProcessors.RemoveStale("node-a", 40, Set.of("c1-1", "c1-2")),
        new SessionProcessors.Restore(List.of(TCP, WS), 18),
        new SessionProcessors.Align(true, 19),
        new SessionProcessors.AlignRows(java.util.Map.of(20, new PresenceStore.Row(true, 21),
            22, new PresenceStore.Row(false, 0))));
    for (Object value : values) {
      var data = serialization.toData(value);
      assertTrue(data.getType() > 0,
          () -> value.getClass().getSimpleName() + " went through Hazelcast's serializer "
              + data.getType() + ", not presence's");
      assertEquals(value, serialization.toObject(data));
    }
  }

  @Test
  void aMapHoldsAndReturnsEntries() {
    var map = member.<Integer, UserSessions>getMap("serializers-test");
    UserSessions entry = new UserSessions(List.of(TCP), 3, List.of("gone"));
    map.put(7, entry);
    assertEquals(entry, map.get(7));
  }
}
