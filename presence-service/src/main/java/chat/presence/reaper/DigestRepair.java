package chat.presence.reaper;

import chat.presence.metrics.PresenceMetrics;
import chat.presence.notify.Transitions;
import chat.presence.store.Outcomes.Removed;
import chat.presence.store.PresenceStore;
import chat.presence.store.SessionRef;
import chat.protocol.bus.Addresses;
import chat.protocol.bus.BusJson;
import chat.protocol.bus.gateway.Kick;
import io.vertx.core.Future;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gateway → map anti-entropy. Each gateway publishes the list of user sessions it holds; every
 * presence member applies it to the entries it owns:
 * <ul>
 *   <li>a session of that node that the map holds, numbered up to the digest's {@code upTo},
 *   and missing from the list is gone (its end report was lost, or its login was abandoned
 *   after presence added it): removed, and its user set offline if it was the last;</li>
 *   <li>a logged-in session the map lacks is put back, and given its friends' current states
 *   again (it missed what changed while the map lacked it), unless the map ended it on
 *   purpose (kicked, or its node was swept): then the gateway is told to close it.</li>
 * </ul>
 * Sessions numbered after {@code upTo} connected after the list was taken: left alone until
 * the next digest. No clock is compared.
 */
public final class DigestRepair {

  private static final Logger LOG = LoggerFactory.getLogger(DigestRepair.class);

  /** One digest, as this member applies it. */
  public record Digest(String nodeId, long upTo, Map<Integer, Set<String>> held,
                       Map<Integer, List<SessionRef>> loggedIn) {

    /**
     * Reads the body published on the digest address.
     *
     * @throws chat.protocol.bus.ServiceFailure when the body does not fit its record
     */
    public static Digest parse(JsonObject body) {
      return of(chat.protocol.bus.presence.Digest.fromJson(body));
    }

    private static Digest of(chat.protocol.bus.presence.Digest digest) {
      // Sized for one session per user, and a user's one session held in an immutable set or
      // list of one (most users have one): every member reads every node's digest every round.
      int users = digest.sessions().size();
      Map<Integer, Set<String>> held = new HashMap<>(users * 4 / 3 + 1);
      Map<Integer, List<SessionRef>> loggedIn = new HashMap<>(users * 4 / 3 + 1);
      for (chat.protocol.bus.presence.Digest.Entry s : digest.sessions()) {
        held.merge(s.userId(), Set.of(s.sessionId()), DigestRepair::union);
        if (s.loggedIn()) {
          loggedIn.merge(s.userId(), List.of(new SessionRef(s.sessionId(), digest.nodeId(),
              s.transport(), 0, digest.upTo())), DigestRepair::concat);
        }
      }
      return new Digest(digest.nodeId(), digest.upTo(), held, loggedIn);
    }
  }

  private static Set<String> union(Set<String> a, Set<String> b) {
    Set<String> both = new HashSet<>(a);
    both.addAll(b);
    return both;
  }

  private static List<SessionRef> concat(List<SessionRef> a, List<SessionRef> b) {
    List<SessionRef> both = new ArrayList<>(a);
    both.addAll(b);
    return both;
  }

  /** What one digest changed on this member. */
  public record Result(int removed, int restored, int closed) {
  }

  private final PresenceStore store;
  private final Transitions transitions;
  private final EventBus bus;

  public DigestRepair(PresenceStore store, Transitions transitions, EventBus bus) {
    this.store = store;
    this.transitions = transitions;
    this.bus = bus;
  }

  /** Applies a digest to the entries this member owns. */
  public Future<Result> apply(Digest digest) {
    Future<Integer> removed = store.removeLocalStale(digest.nodeId(), digest.upTo(), digest.held())
        .map(changes -> {
          PresenceMetrics.current().repaired("stale_session", changes.size());
          report(changes);
          if (!changes.isEmpty()) {
            LOG.warn("node {} no longer holds sessions of {} users that the map still had:"
                + " removed", digest.nodeId(), changes.size());
          }
          return changes.size();
        });
    Future<int[]> restored = restoreMissing(digest);
    return Future.all(removed, restored).map(v ->
        new Result(removed.result(), restored.result()[0], restored.result()[1]));
  }

  private Future<int[]> restoreMissing(Digest digest) {
    // One local query finds the few users whose entry lacks a listed session; only their
    // entries are read (reading every entry copied each one, every round).
    return store.lackingLocal(digest.loggedIn())
        .compose(lacking -> store.read(lacking).compose(entries -> {
          List<Future<int[]>> repairs = new ArrayList<>();
          for (int userId : lacking) {
            var entry = entries.get(userId);
            List<SessionRef> missing = digest.loggedIn().get(userId).stream()
                .filter(s -> entry == null || !entry.holds(s.sessionId()))
                .toList();
            if (!missing.isEmpty()) {
              repairs.add(restore(digest.nodeId(), userId, missing));
            }
          }
          return Future.all(repairs).map(all -> {
            int[] counts = new int[2];
            for (int i = 0; i < all.size(); i++) {
              int[] one = all.resultAt(i);
              counts[0] += one[0];
              counts[1] += one[1];
            }
            return counts;
          });
        }));
  }

  private Future<int[]> restore(String nodeId, int userId, List<SessionRef> missing) {
    return store.restore(userId, missing).map(outcome -> {
      PresenceMetrics.current().repaired("missing_session", outcome.added());
      if (outcome.added() > 0) {
        LOG.warn("user {} has {} live sessions on node {} that the map lacked: put back",
            userId, outcome.added(), nodeId);
        if (outcome.wentOnline()) {
          transitions.transitioned(userId, true, outcome.version());
        }
        // While the map lacked them, these sessions were told nothing of their friends.
        transitions.resendFriendStates(userId, nodeId);
      }
      outcome.toClose().forEach(sessionId -> {
        LOG.warn("session {} of user {} on node {} was ended by the cluster but is still open:"
            + " closing it", sessionId, userId, nodeId);
        bus.send(Addresses.gatewayKick(nodeId), BusJson.toJson(new Kick(userId, sessionId)));
      });
      return new int[] {outcome.added(), outcome.toClose().size()};
    });
  }

  private void report(Map<Integer, Removed> changes) {
    changes.forEach((userId, removed) -> {
      if (removed.wentOffline()) {
        transitions.transitioned(userId, false, removed.version());
      }
    });
  }
}
