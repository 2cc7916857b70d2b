package chat.cli;

import chat.protocol.wire.MsgId;
import io.vertx.core.json.JsonObject;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.function.Consumer;
import org.jline.utils.AttributedString;
import org.jline.utils.AttributedStringBuilder;
import org.jline.utils.AttributedStyle;

/**
 * Turns what happens into lines for a person: chats, presence, friends, notices, errors. With
 * colour off (a dumb terminal, NO_COLOR, --color=never, a pipe) the same lines come plain.
 * Times are the server's {@code time} (in the server's zone, UTC unless configured) shown in
 * this machine's zone.
 */
final class Printer implements ChatSession.Events {

  private static final DateTimeFormatter SERVER_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss");
  private static final DateTimeFormatter TODAY = DateTimeFormatter.ofPattern("HH:mm");
  private static final DateTimeFormatter OTHER_DAY = DateTimeFormatter.ofPattern("MM-dd HH:mm");

  private static final AttributedStyle TIME = AttributedStyle.DEFAULT.foreground(AttributedStyle.BRIGHT);
  private static final AttributedStyle NAME = AttributedStyle.BOLD.foreground(AttributedStyle.CYAN);
  private static final AttributedStyle GROUP = AttributedStyle.BOLD.foreground(AttributedStyle.MAGENTA);
  private static final AttributedStyle ONLINE = AttributedStyle.DEFAULT.foreground(AttributedStyle.GREEN);
  private static final AttributedStyle OFFLINE = AttributedStyle.DEFAULT.foreground(AttributedStyle.YELLOW);
  private static final AttributedStyle NOTICE = AttributedStyle.DEFAULT.foreground(AttributedStyle.BLUE);
  private static final AttributedStyle ERROR = AttributedStyle.BOLD.foreground(AttributedStyle.RED);

  private final Consumer<AttributedString> sink;
  private final ZoneId serverZone;
  private final ZoneId localZone;
  private final boolean json;
  private volatile ChatSession session;

  /**
   * @param sink  where finished lines go (the terminal above the prompt, or standard output)
   * @param json  print chats as the JSON received, one per line (for scripts)
   */
  Printer(Consumer<AttributedString> sink, ZoneId serverZone, ZoneId localZone, boolean json) {
    this.sink = sink;
    this.serverZone = serverZone;
    this.localZone = localZone;
    this.json = json;
  }

  void attach(ChatSession session) {
    this.session = session;
  }

  @Override
  public void chat(JsonObject message, boolean offline) {
    if (json) {
      sink.accept(new AttributedString(message.encode()));
      return;
    }
    AttributedStringBuilder line = new AttributedStringBuilder();
    line.styled(TIME, "[" + localTime(message.getString("time")) + "] ");
    Integer msgid = message.getInteger("msgid");
    if (msgid != null && msgid == MsgId.GROUP_CHAT) {
      ChatSession.Group group = session == null ? null : session.groups().get(message.getInteger("groupid"));
      String groupName = group != null && group.name() != null ? group.name() + " " : "";
      line.styled(GROUP, "#" + groupName + "(" + message.getValue("groupid") + ")").append(" ");
    }
    line.styled(NAME, message.getString("name", "user") + " (" + message.getValue("id") + ")");
    Integer me = session == null ? null : session.userId();
    if (msgid != null && msgid == MsgId.ONE_CHAT && me != null && !me.equals(message.getInteger("id"))) {
      line.append(" \u2192 you");
    }
    line.append(": ").append(message.getString("msg", ""));
    if (offline) {
      line.styled(TIME, "  (while you were away)");
    }
    sink.accept(line.toAttributedString());
  }

  @Override
  public void presence(ChatSession.Person person) {
    boolean online = "online".equals(person.state);
    sink.accept(new AttributedStringBuilder().append("* ").styled(NAME, person.label())
        .append(" is ").styled(online ? ONLINE : OFFLINE, person.state).toAttributedString());
  }

  @Override
  public void friend(ChatSession.Person person) {
    boolean online = "online".equals(person.state);
    sink.accept(new AttributedStringBuilder().append("* ").styled(NAME, person.label())
        .append(" is your friend (").styled(online ? ONLINE : OFFLINE, person.state).append(")")
        .toAttributedString());
  }

  @Override
  public void notice(String text) {
    sink.accept(new AttributedStringBuilder().styled(NOTICE, "* " + text).toAttributedString());
  }

  @Override
  public void error(String text) {
    sink.accept(new AttributedStringBuilder().styled(ERROR, "! " + text).toAttributedString());
  }

  void plain(String text) {
    sink.accept(new AttributedString(text));
  }

  void ok(String text) {
    sink.accept(new AttributedStringBuilder().styled(ONLINE, text).toAttributedString());
  }

  void person(ChatSession.Person p) {
    boolean online = "online".equals(p.state);
    sink.accept(new AttributedStringBuilder().append("  ").styled(online ? ONLINE : OFFLINE, online ? "\u25cf " : "\u25cb ")
        .styled(NAME, p.label()).append(" ").append(p.state).toAttributedString());
  }

  /** "HH:mm" today, "MM-dd HH:mm" otherwise, in this machine's zone; the text itself when unreadable. */
  String localTime(String serverTime) {
    if (serverTime == null) {
      return ZonedDateTime.now(localZone).format(TODAY);
    }
    try {
      ZonedDateTime at = LocalDateTime.parse(serverTime, SERVER_TIME).atZone(serverZone)
          .withZoneSameInstant(localZone);
      return at.toLocalDate().equals(LocalDate.now(localZone)) ? at.format(TODAY) : at.format(OTHER_DAY);
    } catch (DateTimeParseException e) {
      return serverTime;
    }
  }
}
