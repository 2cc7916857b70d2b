package chat.protocol.bus.user;

import static chat.protocol.bus.BusFields.invalid;

import chat.protocol.bus.BusFields;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/** Reading of the replies that map themselves (pages of chats), with the bus field rules. */
final class Pages {

  private Pages() {
  }

  /** The JSON objects of an array field; empty when absent. */
  static List<JsonObject> objects(JsonObject body, String key) {
    if (body == null) {
      throw invalid("no body");
    }
    if (body.getValue(key) == null) {
      return List.of();
    }
    JsonArray array = BusFields.array(body, key);
    List<JsonObject> objects = new ArrayList<>(array.size());
    for (Object value : array) {
      if (!(value instanceof JsonObject object)) {
        throw invalid(key + " must hold JSON objects");
      }
      objects.add(object);
    }
    return objects;
  }

  /** The {@code more} flag of a page; false when absent. */
  static boolean more(JsonObject body) {
    return BusFields.flag(body, "more");
  }
}
