package chat.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.LocalDate;
import java.time.ZoneId;
import org.junit.jupiter.api.Test;

/** The two command forms, and message times shown in this machine's zone. */
class CommandLineFormsTest {

  @Test
  void classicAndSpacedFormsSplitAlike() {
    assertArrayEquals(new String[] {"chat", "13", "hello: world"}, Shell.split("chat:13:hello: world"));
    assertArrayEquals(new String[] {"chat", "13", "hello  world"}, Shell.split("chat 13 hello  world"));
    assertArrayEquals(new String[] {"groupchat", "3", "hi all"}, Shell.split("groupchat:3:hi all"));
    assertArrayEquals(new String[] {"creategroup", "devs", "the dev team"}, Shell.split("creategroup devs the dev team"));
    assertArrayEquals(new String[] {"addfriend", "14"}, Shell.split("addfriend:14"));
    assertArrayEquals(new String[] {"loginout"}, Shell.split("loginout"));
    assertArrayEquals(new String[] {"help"}, Shell.split("HELP"));
  }

  @Test
  void serverTimesInUtcAreShownInTheLocalZone() {
    Printer printer = new Printer(line -> { }, ZoneId.of("UTC"), ZoneId.of("Asia/Tokyo"), false);
    String today = LocalDate.now(ZoneId.of("Asia/Tokyo")).minusDays(400).toString();
    assertEquals(today.substring(5) + " 09:30", printer.localTime(today + " 00:30:00"));
    assertEquals("not a time", printer.localTime("not a time"));
  }
}
