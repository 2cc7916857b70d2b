package chat.protocol.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.math.BigInteger;
import org.junit.jupiter.api.Test;

/** Replies written as text are the bytes of the objects they stand for. */
class RepliesTest {

  @Test
  void anAckWithAWholeNumberSeqIsTheTextOfItsObject() {
    for (Object seq : new Object[] {0, 1, -7, Integer.MAX_VALUE, Integer.MIN_VALUE, 0L,
        Long.MAX_VALUE, Long.MIN_VALUE, 1_796_196_000_123L}) {
      for (int ref : new int[] {MsgId.ONE_CHAT, MsgId.GROUP_CHAT, MsgId.ADD_FRIEND}) {
        assertEquals(JsonText.toString(Replies.ack(ref, seq)), Replies.ackText(ref, seq),
            "ref " + ref + " seq " + seq);
      }
    }
  }

  @Test
  void anyOtherSeqHasNoTextOfItsOwn() {
    assertNull(Replies.ackText(MsgId.ONE_CHAT, "a-string"));
    assertNull(Replies.ackText(MsgId.ONE_CHAT, 1.5));
    assertNull(Replies.ackText(MsgId.ONE_CHAT, new BigInteger("123456789012345678901234567890")));
    assertNull(Replies.ackText(MsgId.ONE_CHAT, null));
  }
}
