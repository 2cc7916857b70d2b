package chat.presence.store;

import java.io.Serializable;

/**
 * One live session of a user: which node holds its socket and since when.
 *
 * @param sessionId unique across the cluster (the gateway's connection id plus a login count)
 * @param nodeId    the cluster member that owns the socket (its Hazelcast member id)
 * @param transport {@code tcp} or {@code ws}
 * @param since     epoch millis of the login
 */
public record SessionRef(String sessionId, String nodeId, String transport, long since)
    implements Serializable {
}
