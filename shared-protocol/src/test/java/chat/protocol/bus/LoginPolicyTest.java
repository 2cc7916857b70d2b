package chat.protocol.bus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class LoginPolicyTest {

  @Test
  void settingAndBusNamesReadBack() {
    for (LoginPolicy policy : LoginPolicy.values()) {
      assertEquals(policy, LoginPolicy.parse(policy.wireName()));
    }
    assertEquals(LoginPolicy.MULTI, LoginPolicy.parse(" Multi "));
  }

  @Test
  void anUnknownNameIsRefusedWithTheAcceptedOnes() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> LoginPolicy.parse("share"));
    assertEquals("login conflict policy must be one of kick, reject, multi; was share",
        e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> LoginPolicy.parse(null));
  }
}
