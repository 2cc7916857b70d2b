package chat.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import chat.node.TestDatabase.FreshDatabase;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Pattern;
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

  /** The start of a line of the text format (a time, then a level). */
  private static final Pattern TEXT_LINE =
      Pattern.compile("^[0-9:. TZ-]{8,30}(INFO|WARN|ERROR|DEBUG) ");

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

  /** A node that cannot bind its port stops with status 1, rather than live on never ready. */
  @Test
  void aNodeWhosePortIsTakenExitsWithStatusOne(FreshDatabase database) throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
      Map<String, String> env = new HashMap<>(TestNodes.baseSettings(database.url(),
          "taken-" + UUID.randomUUID(), TestNodes.freePort()));
      env.put("CHAT_TCP_PORT", String.valueOf(taken.getLocalPort()));
      try (NodeProcess node = NodeProcess.launch(env, List.of(), List.of())) {
        assertEquals(1, node.awaitExit(Duration.ofSeconds(120)), node.log());
        assertTrue(node.log().contains("node failed to start"), node.log());
      }
    }
  }

  /**
   * CHAT_LOG_FORMAT=json as a log pipeline reads it: every log line one JSON object, and each
   * step of a user's life with its step, connection and user as fields of the MDC. (Here,
   * because the format files are the jar's: nodes run from the test class path log through
   * the tests' own configuration.)
   */
  @Test
  void theJarLogsOneJsonObjectPerLineWithTheSessionStepsAsFields(FreshDatabase database) {
    String jar = System.getProperty(NodeProcess.PACKAGED_JAR);
    assertNotNull(jar, "-D" + NodeProcess.PACKAGED_JAR + " names the jar under test");
    Map<String, String> env = new HashMap<>(TestNodes.baseSettings(database.url(),
        "json-" + UUID.randomUUID(), TestNodes.freePort()));
    env.put("CHAT_LOG_FORMAT", "json");
    NodeProcess node = NodeProcess.start(env);
    try {
      int id;
      try (TcpTestClient client = TcpTestClient.lines(node.tcpPort())) {
        id = client.register(TestNodes.unique("json"), "pw");
        client.loginOk(id, "pw");
      }
      Eventually.within(Duration.ofSeconds(10), () -> assertTrue(
          events(node.log()).stream().anyMatch(e -> isStep(e, "disconnect", id)),
          "no disconnect line for user " + id + ":\n" + node.log()));
      List<JsonObject> lines = events(node.log());
      for (String step : List.of("register", "login", "disconnect")) {
        JsonObject line = lines.stream().filter(e -> isStep(e, step, id)).findFirst()
            .orElseThrow(() -> new AssertionError("no " + step + " line for user " + id));
        assertTrue(mdcOf(line).getString("conn", "").contains(":"), step + ": " + line);
        assertEquals("INFO", line.getString("level"), step + ": " + line);
        assertFalse(line.getJsonObject("context").getJsonObject("properties")
            .getString("node", "").isEmpty(), step + ": " + line);
        assertTrue(line.getString("formattedMessage").contains(String.valueOf(id)), line.encode());
      }
      // the login line names the connection's address (its connect line is at DEBUG)
      assertTrue(lines.stream().anyMatch(e -> isStep(e, "login", id)
          && e.getString("formattedMessage").contains(" from ")), "the address in the login line");
      assertTrue(lines.stream().noneMatch(e -> "connect".equals(mdcOf(e).getString("event"))),
          "no connect line at INFO");
    } finally {
      node.terminate();
    }
  }

  private static boolean isStep(JsonObject line, String step, int user) {
    JsonObject mdc = mdcOf(line);
    return step.equals(mdc.getString("event")) && String.valueOf(user).equals(mdc.getString("user"));
  }

  private static JsonObject mdcOf(JsonObject line) {
    JsonObject mdc = line.getJsonObject("mdc");
    return mdc == null ? new JsonObject() : mdc;
  }

  /**
   * The node's log lines as JSON objects; a log line that is not one (one of the text format)
   * fails the test. Other output of the process, such as the JVM's own warnings, is left out.
   */
  private static List<JsonObject> events(String log) {
    return log.lines().filter(l -> l.startsWith("{") || TEXT_LINE.matcher(l).find()).map(l -> {
      try {
        return new JsonObject(l);
      } catch (DecodeException e) {
        throw new AssertionError("not a JSON line: " + l, e);
      }
    }).toList();
  }
}
