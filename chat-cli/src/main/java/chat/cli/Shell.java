package chat.cli;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jline.reader.Candidate;
import org.jline.reader.EndOfFileException;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.ParsedLine;
import org.jline.reader.UserInterruptException;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;
import org.jline.utils.AttributedString;
import org.jline.utils.InfoCmp;

/**
 * The interactive client: a prompt with line editing, history (kept in a file, passwords
 * never) and completion of commands, friend ids and group ids. What arrives while typing is
 * printed above the prompt. The classic client's commands work in its own form
 * ({@code chat:13:hello}) and with spaces ({@code chat 13 hello}).
 */
final class Shell implements AutoCloseable {

  /** name, arguments, what it does. */
  private static final String[][] COMMANDS = {
      {"help", "", "this list"},
      {"register", "<name> [password]", "create an account"},
      {"login", "<id|name> [password]", "log in"},
      {"chat", "<friendid> <message>", "send a message to a user"},
      {"addfriend", "<userid>", "make a user your friend (both ways)"},
      {"creategroup", "<name> [description]", "create a group"},
      {"addgroup", "<groupid>", "join a group"},
      {"groupchat", "<groupid> <message>", "send a message to a group"},
      {"history", "<friendid | g<groupid>> [count]", "the last messages of a conversation"},
      {"friends", "", "your friends and who is online"},
      {"groups", "", "your groups"},
      {"loginout", "", "log out (the connection stays)"},
      {"quit", "", "leave"},
  };

  private final ChatCli options;
  private final Terminal terminal;
  private final LineReader reader;
  private final Printer printer;
  private final ChatSession session;
  private final boolean colours;

  Shell(ChatCli options, ZoneId serverZone) throws IOException {
    this.options = options;
    this.terminal = TerminalBuilder.builder().name("chat-cli").system(true).build();
    this.colours = wantsColour(options.color, terminal);
    Path history = options.historyFile != null ? options.historyFile
        : Path.of(System.getProperty("user.home"), ".chat_cli_history");
    this.reader = LineReaderBuilder.builder()
        .terminal(terminal)
        .appName("chat-cli")
        .completer(this::complete)
        .variable(LineReader.HISTORY_FILE, history)
        .variable(LineReader.HISTORY_SIZE, 1000)
        // a password typed on the line stays out of the history file
        .variable(LineReader.HISTORY_IGNORE, "login *:login\\:*:register *:register\\:*")
        .option(LineReader.Option.HISTORY_IGNORE_SPACE, true)
        .option(LineReader.Option.DISABLE_EVENT_EXPANSION, true)
        .build();
    this.printer = new Printer(this::show, serverZone, ZoneId.systemDefault(), false);
    this.session = new ChatSession(options.host, options.port, Duration.ofSeconds(options.timeoutSeconds), printer);
    printer.attach(session);
  }

  /** Colour on a terminal that shows it, unless NO_COLOR or --color=never says otherwise. */
  static boolean wantsColour(String when, Terminal terminal) {
    if ("always".equals(when)) {
      return true;
    }
    if ("never".equals(when) || System.getenv("NO_COLOR") != null) {
      return false;
    }
    String type = terminal.getType();
    if (type == null || type.startsWith(Terminal.TYPE_DUMB)) {
      return false;
    }
    Integer colours = terminal.getNumericCapability(InfoCmp.Capability.max_colors);
    return colours != null && colours >= 8;
  }

  private void show(AttributedString line) {
    String text = ChatCli.render(line, terminal, colours);
    if (reader.isReading()) {
      reader.printAbove(text);
    } else {
      terminal.writer().println(text);
      terminal.writer().flush();
    }
  }

  int run() {
    printer.plain("chat-cli: " + options.host + ":" + options.port + " \u2014 'help' lists the commands,"
        + " Tab completes, Ctrl-D quits.");
    try {
      session.connect();
    } catch (IOException e) {
      printer.error("cannot connect to " + options.host + ":" + options.port + ": " + e.getMessage());
      return ChatCli.NO_CONNECTION;
    }
    if (options.user != null) {
      execute("login", List.of(options.user, options.password == null ? "" : options.password));
    }
    while (true) {
      String line;
      try {
        line = reader.readLine(prompt());
      } catch (UserInterruptException e) {
        continue;
      } catch (EndOfFileException e) {
        return ChatCli.OK;
      }
      String trimmed = line.trim();
      if (trimmed.isEmpty()) {
        continue;
      }
      String[] parts = split(trimmed);
      if (parts[0].equals("quit") || parts[0].equals("exit")) {
        return ChatCli.OK;
      }
      execute(parts[0], List.of(parts).subList(1, parts.length));
    }
  }

  private String prompt() {
    String name = session.userName();
    String text = (name == null ? "chat" : name + "(" + session.userId() + ")") + "> ";
    return colours ? "\u001b[1m" + text + "\u001b[0m" : text;
  }

  /**
   * Splits a command line: the classic form {@code cmd:arg:rest} or words; the last argument
   * of a command takes the rest of the line (a message, a description).
   */
  static String[] split(String line) {
    int colon = line.indexOf(':');
    int space = line.indexOf(' ');
    boolean classic = colon > 0 && (space < 0 || colon < space);
    String command = (classic ? line.substring(0, colon) : space < 0 ? line : line.substring(0, space))
        .toLowerCase(Locale.ROOT);
    String rest = classic ? line.substring(colon + 1) : space < 0 ? "" : line.substring(space + 1).trim();
    int arity = switch (command) {
      case "chat", "groupchat", "creategroup", "register", "login", "history" -> 2;
      case "addfriend", "addgroup" -> 1;
      default -> 0;
    };
    List<String> parts = new ArrayList<>();
    parts.add(command);
    String separator = classic ? ":" : " +";
    if (!rest.isEmpty()) {
      String[] args = arity == 0 ? new String[] {rest} : rest.split(separator, arity);
      for (String arg : args) {
        parts.add(arg);
      }
    }
    return parts.toArray(String[]::new);
  }

  private void execute(String command, List<String> args) {
    try {
      switch (command) {
        case "help" -> help();
        case "register" -> {
          String password = args.size() > 1 ? args.get(1) : askPassword();
          int id = session.register(arg(args, 0, "name"), password);
          printer.ok("registered: id " + id + " (log in with: login " + id + ")");
        }
        case "login" -> {
          String password = args.size() > 1 && !args.get(1).isEmpty() ? args.get(1) : askPassword();
          JsonObject ack = session.login(arg(args, 0, "id or name"), password);
          printer.ok("logged in as " + ack.getString("name") + " (" + ack.getValue("id") + ")");
          friends();
        }
        case "chat" -> session.chat(id(args, 0, "friendid"), arg(args, 1, "message"));
        case "addfriend" -> {
          ChatSession.Person friend = session.addFriend(id(args, 0, "userid"));
          printer.ok("friend added: " + friend.label() + " " + friend.state);
        }
        case "creategroup" -> {
          int id = session.createGroup(arg(args, 0, "name"), args.size() > 1 ? args.get(1) : "");
          printer.ok("group created: id " + id);
        }
        case "addgroup" -> {
          int id = id(args, 0, "groupid");
          session.joinGroup(id);
          printer.ok("joined group " + id);
        }
        case "groupchat" -> session.groupChat(id(args, 0, "groupid"), arg(args, 1, "message"));
        case "history" -> history(args);
        case "friends" -> friends();
        case "groups" -> groups();
        case "loginout", "logout" -> {
          session.logout();
          printer.ok("logged out");
        }
        default -> printer.error("unknown command '" + command + "' (try help)");
      }
    } catch (Connection.Refused e) {
      printer.error(e.getMessage());
    } catch (IllegalArgumentException e) {
      printer.error(e.getMessage());
    } catch (IOException | RuntimeException e) {
      printer.error(ChatSession.reasonOf(e));
    }
  }

  private void help() {
    printer.plain("commands (classic form 'chat:13:hello' works too):");
    for (String[] c : COMMANDS) {
      printer.plain(String.format("  %-12s %-32s %s", c[0], c[1], c[2]));
    }
  }

  private void friends() {
    List<ChatSession.Person> friends = session.friends();
    printer.plain(friends.isEmpty() ? "no friends yet (addfriend <userid>)" : "friends:");
    friends.forEach(printer::person);
  }

  private void groups() {
    Map<Integer, ChatSession.Group> groups = session.groups();
    printer.plain(groups.isEmpty() ? "no groups yet (creategroup <name>, addgroup <groupid>)" : "groups:");
    groups.values().forEach(g -> printer.plain("  #" + (g.name() == null ? "" : g.name() + " ")
        + "(" + g.id() + ")" + (g.desc() == null || g.desc().isEmpty() ? "" : " \u2014 " + g.desc())));
  }

  private void history(List<String> args) throws IOException {
    String which = arg(args, 0, "friendid or g<groupid>");
    int count = 20;
    if (args.size() > 1) {
      count = id(args, 1, "count");
    }
    boolean group = which.startsWith("g") || which.startsWith("#");
    int id = id(List.of(group ? which.substring(1) : which), 0, group ? "groupid" : "friendid");
    List<JsonObject> messages = group ? session.history(null, id, count) : session.history(id, null, count);
    if (messages.isEmpty()) {
      printer.plain("no messages");
    }
    messages.forEach(m -> printer.chat(m, false));
  }

  private String askPassword() {
    return reader.readLine("password: ", '*');
  }

  private static String arg(List<String> args, int index, String what) {
    if (args.size() <= index || args.get(index).isBlank()) {
      throw new IllegalArgumentException("missing " + what);
    }
    return args.get(index).trim();
  }

  private static int id(List<String> args, int index, String what) {
    String text = arg(args, index, what);
    if (!text.matches("\\d{1,9}")) {
      throw new IllegalArgumentException(what + " must be a number, not '" + text + "'");
    }
    return Integer.parseInt(text);
  }

  private void complete(LineReader lineReader, ParsedLine line, List<Candidate> candidates) {
    if (line.wordIndex() == 0) {
      for (String[] c : COMMANDS) {
        candidates.add(new Candidate(c[0], c[0], null, c[2], null, null, true));
      }
      return;
    }
    if (line.wordIndex() != 1) {
      return;
    }
    String command = line.words().get(0).toLowerCase(Locale.ROOT);
    if (command.equals("chat") || command.equals("history") || command.equals("addfriend")) {
      for (ChatSession.Person p : session.friends()) {
        candidates.add(new Candidate(String.valueOf(p.id), String.valueOf(p.id), "friends",
            p.label() + " " + p.state, null, null, true));
      }
    }
    if (command.equals("groupchat") || command.equals("addgroup") || command.equals("history")) {
      session.groups().values().forEach(g -> {
        String value = command.equals("history") ? "g" + g.id() : String.valueOf(g.id());
        candidates.add(new Candidate(value, value, "groups", g.name(), null, null, true));
      });
    }
  }

  @Override
  public void close() {
    session.close();
    try {
      reader.getHistory().save();
      terminal.close();
    } catch (IOException ignored) {
      // leaving anyway
    }
  }
}
