package chat.protocol.bus.user;

import static chat.protocol.bus.BusFields.checkId;
import static chat.protocol.bus.BusFields.checkToken;
import static chat.protocol.bus.BusFields.invalid;
import static chat.protocol.bus.BusFields.required;

import java.util.List;

/**
 * Request on {@code chat.user.offline.ack}: exactly these stored messages of the user were
 * received (never a range); unknown or already acknowledged ones count nothing.
 *
 * @param msgnos at most {@value OfflinePage#MAX_PAGE}, each 1 to {@value Append#MAX_MSGNO_LENGTH}
 *               printable characters
 */
public record OfflineAck(int userId, List<String> msgnos) {

  public OfflineAck {
    checkId("userId", userId);
    required("msgnos", msgnos);
    if (msgnos.size() > OfflinePage.MAX_PAGE) {
      throw invalid("at most " + OfflinePage.MAX_PAGE + " msgnos per acknowledgement");
    }
    for (String msgno : msgnos) {
      checkToken("msgnos", msgno, Append.MAX_MSGNO_LENGTH);
    }
    msgnos = List.copyOf(msgnos);
  }

  /** Reply: how many pending messages were acknowledged. */
  public record Reply(int acked) {
  }
}
