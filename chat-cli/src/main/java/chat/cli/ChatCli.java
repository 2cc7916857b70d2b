package chat.cli;

import java.io.BufferedReader;
import java.io.Console;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneId;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import org.jline.utils.AttributedString;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The terminal client. Without {@code --send} or {@code --listen} it is interactive (line
 * editing, history, completion, the classic client's commands); with them it is a tool for
 * shell scripts. Exit codes: 0 done, 1 refused by the server, 2 bad usage, 3 no connection.
 */
@Command(name = "chat-cli", mixinStandardHelpOptions = true, version = "chat-cli 1.0",
    description = {"Terminal client of the cluster chat server (TCP, newline-terminated JSON).",
        "Interactive by default; type 'help' for the commands.",
        "Scripts: --send TEXT --to ID | --group ID, or --listen."},
    footer = {"", "Examples:",
        "  chat-cli --port 6000",
        "  chat-cli -u alice -p secret --send 'hello' --to 2",
        "  echo 'build done' | chat-cli -u 1 -p secret --send - --group 3",
        "  chat-cli -u bob -p secret --listen --json"})
public final class ChatCli implements Callable<Integer> {

  static final int OK = 0;
  static final int REFUSED = 1;
  static final int USAGE = 2;
  static final int NO_CONNECTION = 3;

  @Option(names = {"-H", "--host"}, defaultValue = "${env:CHAT_HOST:-127.0.0.1}",
      description = "server host (env CHAT_HOST; default ${DEFAULT-VALUE})")
  String host;

  @Option(names = {"-P", "--port"}, defaultValue = "${env:CHAT_PORT:-6000}",
      description = "server TCP port (env CHAT_PORT; default ${DEFAULT-VALUE})")
  int port;

  @Option(names = {"-u", "--user"}, description = "log in as this id (digits) or name")
  String user;

  @Option(names = {"-p", "--password"}, defaultValue = "${env:CHAT_PASSWORD}",
      description = "password (env CHAT_PASSWORD; asked when missing)")
  String password;

  @Option(names = "--send", paramLabel = "TEXT", description = "send TEXT ('-': standard input) and exit")
  String send;

  @ArgGroup(exclusive = true)
  Target target;

  static final class Target {
    @Option(names = "--to", paramLabel = "ID", description = "with --send: to this user") Integer to;
    @Option(names = "--group", paramLabel = "ID", description = "with --send: to this group") Integer group;
  }

  @Option(names = "--listen", description = "print what arrives, one line each, until interrupted")
  boolean listen;

  @Option(names = "--json", description = "with --listen: print each chat as the JSON received")
  boolean json;

  @Option(names = "--color", defaultValue = "auto", paramLabel = "WHEN",
      description = "auto (off on a dumb terminal, with NO_COLOR or into a pipe), always, never")
  String color;

  @Option(names = "--server-zone", defaultValue = "${env:CHAT_TIMEZONE:-UTC}",
      description = "zone of the server's message times (the server's CHAT_TIMEZONE; default ${DEFAULT-VALUE})")
  String serverZone;

  @Option(names = "--history-file", description = "line history (default ~/.chat_cli_history)")
  Path historyFile;

  @Option(names = "--timeout", defaultValue = "10", description = "seconds to wait for an answer")
  int timeoutSeconds;

  public static void main(String[] args) {
    CommandLine line = new CommandLine(new ChatCli());
    System.exit(line.execute(args));
  }

  @Override
  public Integer call() throws Exception {
    ZoneId zone;
    try {
      zone = ZoneId.of(serverZone);
    } catch (RuntimeException e) {
      return usage("unknown zone " + serverZone);
    }
    if (send != null || listen) {
      return script(zone);
    }
    if (target != null || json) {
      return usage("--to, --group and --json go with --send or --listen");
    }
    try (Shell shell = new Shell(this, zone)) {
      return shell.run();
    }
  }

  /** --send and --listen: log in, do it, report by exit code; messages go to standard output. */
  private int script(ZoneId zone) throws IOException, InterruptedException {
    if (send != null && listen) {
      return usage("--send and --listen do not go together");
    }
    if (send != null && target == null) {
      return usage("--send needs --to ID or --group ID");
    }
    if (user == null) {
      return usage("--send and --listen need --user");
    }
    // Standard output is this tool's product here (a script reads it), not a log.
    PrintWriter out = new PrintWriter(System.out, true, StandardCharsets.UTF_8);
    PrintWriter err = new PrintWriter(System.err, true, StandardCharsets.UTF_8);
    boolean colours = "always".equals(color);
    Printer printer = new Printer(line -> out.println(colours ? line.toAnsi() : line.toString()),
        zone, ZoneId.systemDefault(), json);
    try (ChatSession session = new ChatSession(host, port, Duration.ofSeconds(timeoutSeconds), printer)) {
      printer.attach(session);
      try {
        session.connect();
      } catch (IOException e) {
        err.println("chat-cli: cannot connect to " + host + ":" + port + ": " + e.getMessage());
        return NO_CONNECTION;
      }
      try {
        session.login(user, password != null ? password : askPassword());
        if (send != null) {
          String text = "-".equals(send) ? readStdin() : send;
          if (target.to != null) {
            session.chat(target.to, text);
          } else {
            session.groupChat(target.group, text);
          }
          return OK;
        }
        CountDownLatch forever = new CountDownLatch(1);
        forever.await();
        return OK;
      } catch (Connection.Refused e) {
        err.println("chat-cli: " + e.getMessage());
        return REFUSED;
      } catch (RuntimeException e) {
        err.println("chat-cli: " + ChatSession.reasonOf(e));
        return NO_CONNECTION;
      }
    }
  }

  private static String readStdin() throws IOException {
    try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
      return in.lines().collect(Collectors.joining("\n"));
    }
  }

  private static String askPassword() {
    Console console = System.console();
    if (console == null) {
      throw new Connection.Refused(0, "no password: use --password or CHAT_PASSWORD");
    }
    char[] typed = console.readPassword("password: ");
    return typed == null ? "" : new String(typed);
  }

  private int usage(String message) {
    new PrintWriter(System.err, true, StandardCharsets.UTF_8).println("chat-cli: " + message
        + " (see --help)");
    return USAGE;
  }

  /** For the shell: the line printed into a terminal, coloured when it can show colour. */
  static String render(AttributedString line, org.jline.terminal.Terminal terminal, boolean colours) {
    return colours ? line.toAnsi(terminal) : line.toString();
  }
}
