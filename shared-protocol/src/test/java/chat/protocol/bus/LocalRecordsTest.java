package chat.protocol.bus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import chat.protocol.bus.user.Append;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Records handed over within one process: the very object, there and back, never on a wire. */
class LocalRecordsTest {

  private Vertx vertx;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
  }

  @AfterEach
  void stop() {
    vertx.close().await();
  }

  private static Append append() {
    JsonObject chat = new JsonObject().put("msgid", 6).put("id", 3).put("toid", 4)
        .put("msg", "hi").put("msgno", "n-1");
    return new Append(List.of(Append.Item.log(chat, List.of(4))));
  }

  @Test
  void aRecordAndItsReplyArriveAsTheSameObjects() {
    EventBus bus = vertx.eventBus();
    LocalRecords.register(bus);
    LocalRecords.register(bus); // the other side of the process registers it too: no error
    Append.Reply answer = new Append.Reply(List.of(new Append.Result(List.of(), List.of(),
        List.of(4))));
    AtomicReference<Object> received = new AtomicReference<>();
    bus.consumer("records", msg -> {
      received.set(msg.body());
      msg.reply(answer, LocalRecords.replyOptions());
    }).completion().await();
    Append sent = append();
    Object reply = bus.request("records", sent, LocalRecords.options(5_000)).await().body();
    assertSame(sent, received.get(), "the record itself, not a copy");
    assertSame(answer, reply, "the reply record itself");
  }

  @Test
  void aRecordIsNeverWrittenToAWire() {
    LocalRecords codec = LocalRecords.codec();
    assertEquals(LocalRecords.NAME, codec.name());
    assertEquals(-1, codec.systemCodecID(), "a user codec");
    assertThrows(IllegalStateException.class, () -> codec.encodeToWire(Buffer.buffer(), append()));
    assertThrows(IllegalStateException.class, () -> codec.decodeFromWire(0, Buffer.buffer()));
  }
}
