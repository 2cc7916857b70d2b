package chat.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import chat.node.TestDatabase.FreshDatabase;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * chat-cli as a person uses it: in a pseudo-terminal (tmux: send-keys to type, capture-pane
 * to read the screen) against a running node, its traffic passing a proxy that records what
 * it puts on the wire; a second client (raw TCP) is the other person. Needs tmux: skipped
 * with a message without it on a developer machine, failing in CI (where .ci/run installs it).
 */
@ExtendWith(TestDatabase.Extension.class)
@Timeout(180)
class ChatCliTest {

  private static final Logger LOG = LoggerFactory.getLogger(ChatCliTest.class);
  private static final Duration WAIT = Duration.ofSeconds(15);

  private static TestNodes nodes;
  private static ChatNode node;
  private static Db db;
  private final String socket = "chat-cli-test-" + UUID.randomUUID().toString().substring(0, 8);
  private final List<AutoCloseable> closing = new ArrayList<>();
  private Path home;

  @BeforeAll
  static void start(FreshDatabase database) {
    requireTmux();
    db = new Db(database.url());
    nodes = new TestNodes(database.url());
    node = nodes.start();
  }

  @AfterAll
  static void stop() {
    if (nodes != null) {
      nodes.close();
    }
  }

  @AfterEach
  void cleanUp() throws Exception {
    tmux("kill-server");
    for (AutoCloseable c : closing) {
      c.close();
    }
  }

  @Test
  void aScriptedSessionDoesWhatTheClassicClientDidAndEachStepIsOnTheWire() throws Exception {
    TcpProxy wire = new TcpProxy("127.0.0.1", node.tcpPort()).recordingClients();
    closing.add(wire);
    TcpTestClient bob = TcpTestClient.lines(node.tcpPort());
    closing.add(bob);
    String aliceName = TestNodes.unique("alice");
    String bobName = TestNodes.unique("bob");
    int bobId = bob.register(bobName, "pw-bob");
    bob.loginOk(bobId, "pw-bob");

    startCli("cli", "xterm-256color", wire.port());
    type("cli", "register " + aliceName + " pw-alice");
    int aliceId = Integer.parseInt(awaitScreen("cli", Pattern.compile("registered: id (\\d+)")).group(1));
    assertTrue(sent(wire).stream().anyMatch(m -> m.getInteger("msgid") == 4
        && aliceName.equals(m.getString("name"))), "REG on the wire");

    type("cli", "login " + aliceId + " pw-alice");
    awaitScreen("cli", Pattern.compile("logged in as " + Pattern.quote(aliceName)));
    JsonObject login = last(wire, 1);
    assertEquals("ack", login.getString("offline"), "LOGIN asks for acknowledged offline delivery");
    Eventually.within(Duration.ofSeconds(2), () -> assertEquals("online", db.state(aliceId)));

    type("cli", "chat:" + bobId + ":hello bob, classic form");
    JsonObject toBob = bob.expect(6);
    assertEquals(aliceId, toBob.getInteger("id"));
    assertEquals("hello bob, classic form", toBob.getString("msg"));
    type("cli", "chat " + bobId + " and with spaces");
    assertEquals("and with spaces", bob.expect(6).getString("msg"));

    bob.chat(aliceId, "hi alice");
    awaitScreen("cli", Pattern.compile(Pattern.quote(bobName) + " \\(" + bobId + "\\) \u2192 you: hi alice"));

    type("cli", "addfriend " + bobId);
    awaitScreen("cli", Pattern.compile("\\* " + Pattern.quote(bobName) + " \\(" + bobId + "\\) is your friend \\(online\\)"));
    JsonObject friend = bob.expect(111);
    assertEquals(aliceId, friend.getInteger("id"));
    assertEquals(aliceName, friend.getString("name"));
    assertEquals(bobId, last(wire, 7).getInteger("friendid"));

    type("cli", "creategroup team-" + aliceName + " the team");
    int groupId = Integer.parseInt(awaitScreen("cli", Pattern.compile("group created: id (\\d+)")).group(1));
    assertEquals("the team", last(wire, 8).getString("groupdesc"));
    bob.send(new JsonObject().put("msgid", 9).put("groupid", groupId).put("seq", "join"));
    assertEquals(0, bob.expect(105).getInteger("errno"));
    type("cli", "groupchat " + groupId + " hello team");
    JsonObject groupMessage = bob.expect(10);
    assertEquals(groupId, groupMessage.getInteger("groupid"));
    assertEquals("hello team", groupMessage.getString("msg"));

    type("cli", "history " + bobId);
    awaitScreen("cli", Pattern.compile(Pattern.quote(aliceName) + " \\(" + aliceId + "\\): hello bob, classic form"));
    assertEquals(bobId, last(wire, 110).getInteger("with"));

    // Presence lines, both states.
    bob.send(new JsonObject().put("msgid", 3).put("seq", "out"));
    bob.expect(105);
    awaitScreen("cli", Pattern.compile(Pattern.quote(bobName) + " \\(" + bobId + "\\) is offline"));
    bob.loginOk(bobId, "pw-bob");
    awaitScreen("cli", Pattern.compile(Pattern.quote(bobName) + " \\(" + bobId + "\\) is online"));

    // Completion and line history.
    typeKeys("cli", "addf", "Tab");
    awaitPrompt("cli", Pattern.compile("\\)> addfriend$"));
    typeKeys("cli", "C-u", "Up");
    awaitPrompt("cli", Pattern.compile("\\)> history " + bobId + "$"));
    typeKeys("cli", "C-u");

    // The connection drops: it comes back by itself with the token.
    wire.cut();
    wire.restore();
    awaitScreen("cli", Pattern.compile("reconnected as " + Pattern.quote(aliceName)));
    JsonObject resumed = last(wire, 1);
    assertTrue(resumed.getString("token", "").length() > 10, "LOGIN with the token: " + resumed);
    assertFalse(resumed.containsKey("password"), "no password after a drop: " + resumed);
    type("cli", "chat " + bobId + " after the drop");
    assertEquals("after the drop", bob.expect(6).getString("msg"));

    type("cli", "loginout");
    awaitScreen("cli", Pattern.compile("logged out"));
    last(wire, 3);
    Eventually.within(Duration.ofSeconds(2), () -> assertEquals("offline", db.state(aliceId)));
    awaitPrompt("cli", Pattern.compile("^chat>$"));

    String coloured = tmux("capture-pane", "-p", "-e", "-t", "cli", "-S", "-200");
    assertTrue(coloured.contains("\u001b[32m") || coloured.contains("\u001b[38;5;2m"),
        "no colour on a colour terminal");
    String history = Files.readString(home.resolve("history"), StandardCharsets.UTF_8);
    assertFalse(history.contains("pw-alice"), "a password went into the history file: " + history);
  }

  @Test
  void onADumbTerminalTheLinesComePlainAndTheScriptModesWorkFromAShell() throws Exception {
    TcpTestClient bob = TcpTestClient.lines(node.tcpPort());
    closing.add(bob);
    TcpTestClient alice = TcpTestClient.lines(node.tcpPort());
    closing.add(alice);
    String bobName = TestNodes.unique("bob");
    int bobId = bob.register(bobName, "pw-bob");
    int aliceId = alice.register(TestNodes.unique("alice"), "pw-alice");
    alice.close();
    bob.loginOk(bobId, "pw-bob");

    startCli("dumb", "dumb", node.tcpPort());
    type("dumb", "login " + aliceId + " pw-alice");
    awaitScreen("dumb", Pattern.compile("logged in as"));
    bob.chat(aliceId, "plain please");
    awaitScreen("dumb", Pattern.compile("\u2192 you: plain please"));
    String screen = tmux("capture-pane", "-p", "-e", "-t", "dumb");
    assertFalse(Pattern.compile("\u001b\\[[0-9;]*m").matcher(screen).find(),
        "colour codes on a dumb terminal:\n" + screen);
    type("dumb", "quit");

    // --send: one message from a shell, the exit code says it was accepted.
    Process send = cli(List.of("-u", String.valueOf(aliceId), "-p", "pw-alice", "--send", "from a script",
        "--to", String.valueOf(bobId)));
    assertTrue(send.waitFor(30, TimeUnit.SECONDS));
    assertEquals(0, send.exitValue(), new String(send.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    assertEquals("from a script", bob.expect(6).getString("msg"));

    Process refused = cli(List.of("-u", String.valueOf(aliceId), "-p", "wrong", "--send", "x",
        "--to", String.valueOf(bobId)));
    assertTrue(refused.waitFor(30, TimeUnit.SECONDS));
    assertEquals(1, refused.exitValue());

    // --listen --json: what arrives, one JSON line each.
    Process listen = cli(List.of("-u", String.valueOf(aliceId), "-p", "pw-alice", "--listen", "--json"));
    closing.add(listen::destroyForcibly);
    var out = new java.io.BufferedReader(new java.io.InputStreamReader(listen.getInputStream(), StandardCharsets.UTF_8));
    Eventually.within(Duration.ofSeconds(20), () -> assertEquals("online", db.state(aliceId)));
    bob.chat(aliceId, "to the listener");
    String line;
    while ((line = out.readLine()) != null && !line.contains("to the listener")) {
      LOG.info("listen: {}", line);
    }
    assertTrue(line != null, "the listener printed nothing for the message");
    assertEquals(bobId, new JsonObject(line).getInteger("id"));
  }

  // ---------------------------------------------------------------- the client and tmux

  private void startCli(String session, String term, int port) throws IOException {
    home = Files.createTempDirectory("chat-cli-home");
    Path launcher = home.resolve("run.sh");
    Files.writeString(launcher, "#!/bin/sh\n"
        + "export TERM=" + term + " HOME='" + home + "'\n"
        + "unset NO_COLOR\n"
        + "exec '" + javaBin() + "' -cp '" + System.getProperty("java.class.path") + "' chat.cli.ChatCli"
        + " --port " + port + " --history-file '" + home.resolve("history") + "'\n");
    launcher.toFile().setExecutable(true);
    tmux("new-session", "-d", "-s", session, "-x", "160", "-y", "50", launcher.toString());
    awaitScreen(session, Pattern.compile("'help' lists the commands"));
  }

  private Process cli(List<String> args) throws IOException {
    List<String> command = new ArrayList<>(List.of(javaBin(), "-cp", System.getProperty("java.class.path"),
        "chat.cli.ChatCli", "--port", String.valueOf(node.tcpPort())));
    command.addAll(args);
    return new ProcessBuilder(command).redirectErrorStream(true).start();
  }

  private static String javaBin() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  private void type(String session, String line) {
    tmux("send-keys", "-t", session, "-l", line);
    tmux("send-keys", "-t", session, "Enter");
  }

  private void typeKeys(String session, String... keys) {
    for (String key : keys) {
      tmux("send-keys", "-t", session, key);
    }
  }

  /** Waits until the screen (with its scrollback) matches; returns the match. */
  private Matcher awaitScreen(String session, Pattern pattern) {
    long deadline = System.nanoTime() + WAIT.toNanos();
    String screen = "";
    while (System.nanoTime() < deadline) {
      screen = tmux("capture-pane", "-p", "-t", session, "-S", "-200");
      Matcher m = pattern.matcher(screen.replaceAll("\\s+\n", "\n"));
      if (m.find()) {
        return m;
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    return fail("screen never showed /" + pattern + "/:\n" + screen);
  }

  /** Waits until the line being edited (the last line on the screen) matches. */
  private void awaitPrompt(String session, Pattern pattern) {
    long deadline = System.nanoTime() + WAIT.toNanos();
    String last = "";
    while (System.nanoTime() < deadline) {
      String[] lines = tmux("capture-pane", "-p", "-t", session).split("\n");
      last = "";
      for (int i = lines.length - 1; i >= 0 && last.isEmpty(); i--) {
        last = lines[i].strip();
      }
      if (pattern.matcher(last).find()) {
        return;
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    fail("the prompt line never matched /" + pattern + "/: '" + last + "'");
  }

  /** The JSON objects the client has put on the wire so far. */
  private static List<JsonObject> sent(TcpProxy wire) {
    List<JsonObject> messages = new ArrayList<>();
    for (String line : wire.sentByClients().split("[\n\0]")) {
      if (!line.isBlank()) {
        messages.add(new JsonObject(line));
      }
    }
    return messages;
  }

  /** The last request of that msgid the client sent (waits a little for it to pass). */
  private static JsonObject last(TcpProxy wire, int msgid) {
    JsonObject[] found = new JsonObject[1];
    Eventually.within(Duration.ofSeconds(5), () -> {
      List<JsonObject> all = sent(wire);
      for (int i = all.size() - 1; i >= 0; i--) {
        if (all.get(i).getInteger("msgid") == msgid) {
          found[0] = all.get(i);
          return;
        }
      }
      fail("no msgid " + msgid + " on the wire: " + all);
    });
    return found[0];
  }

  private String tmux(String... args) {
    List<String> command = new ArrayList<>(List.of("tmux", "-L", socket));
    command.addAll(List.of(args));
    try {
      Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
      String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      process.waitFor(10, TimeUnit.SECONDS);
      return out;
    } catch (IOException e) {
      return fail("tmux: " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "";
    }
  }

  private static void requireTmux() {
    try {
      Process p = new ProcessBuilder("tmux", "-V").redirectErrorStream(true).start();
      if (p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0) {
        return;
      }
    } catch (IOException | InterruptedException ignored) {
      // not there
    }
    String message = "the chat-cli test needs tmux (Debian: apt-get install tmux)";
    if (System.getenv("CI") != null) {
      fail(message + "; .ci/run installs it");
    }
    LOG.warn("SKIPPED: {}", message);
    Assumptions.abort("SKIPPED: " + message);
  }
}
