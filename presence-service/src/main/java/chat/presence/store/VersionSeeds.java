package chat.presence.store;

import io.vertx.core.Future;
import java.util.Map;
import java.util.Set;

/**
 * Where a user's version counter starts when the map has no entry for the user (the first
 * login since the cluster started, or after the entry was lost): the version the database
 * row holds. Users without a row are absent (their counter starts at 0).
 */
@FunctionalInterface
public interface VersionSeeds {

  Future<Map<Integer, Long>> versions(Set<Integer> userIds);
}
