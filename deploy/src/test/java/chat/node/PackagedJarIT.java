package chat.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import chat.node.TestDatabase.FreshDatabase;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The shaded jar users run ({@code java -jar deploy/target/chat-node.jar}, the container
 * image, {@code deploy/local/start-cluster.sh}) starts and serves: every library a node needs
 * at run time is inside it. The other tests run nodes from the test class path, which holds
 * test-scoped libraries too, so they cannot see a library missing from the jar. Runs after
 * {@code package} (failsafe), with {@code -Dchat.node.jar} set to the jar.
 */
@ExtendWith(TestDatabase.Extension.class)
@Timeout(180)
class PackagedJarIT {

  @Test
  void theShadedJarStartsAndTwoUsersChat(FreshDatabase database) {
    String jar = System.getProperty(NodeProcess.PACKAGED_JAR);
    assertNotNull(jar, "-D" + NodeProcess.PACKAGED_JAR + " names the jar under test");
    assertTrue(Files.isRegularFile(Path.of(jar)), jar + " exists (mvn package)");
    NodeProcess node = NodeProcess.start(TestNodes.baseSettings(database.url(),
        "jar-" + UUID.randomUUID(), TestNodes.freePort()));
    try (TcpTestClient alice = TcpTestClient.lines(node.tcpPort());
         TcpTestClient bob = TcpTestClient.lines(node.tcpPort())) {
      int aliceId = alice.register(TestNodes.unique("alice"), "pw");
      int bobId = bob.register(TestNodes.unique("bob"), "pw");
      alice.loginOk(aliceId, "pw");
      bob.loginOk(bobId, "pw");
      alice.send(new JsonObject().put("msgid", 6).put("id", aliceId).put("toid", bobId)
          .put("msg", "from the jar").put("seq", "c1"));
      alice.expect(m -> m.getInteger("msgid") == 105 && "c1".equals(m.getString("seq")),
          "chat ACK", Duration.ofSeconds(10));
      JsonObject chat = bob.expect(m -> m.getInteger("msgid") == 6, "chat",
          Duration.ofSeconds(10));
      assertEquals("from the jar", chat.getString("msg"));
    } finally {
      node.terminate();
    }
  }
}
