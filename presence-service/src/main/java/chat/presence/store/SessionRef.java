package chat.presence.store;

import java.io.Serializable;

/**
 * One live session of a user: which node holds its socket.
 *
 * @param sessionId unique across the cluster (the gateway's connection id plus a login count)
 * @param nodeId    the node that owns the socket (its {@code chat.node} member attribute)
 * @param transport {@code tcp} or {@code ws}
 * @param since     epoch millis of the login, as the presence member saw it (informative only)
 * @param seq       the gateway's own number for this connect, growing on that node: a digest
 *                  of the node's sessions taken when its counter stood at N speaks for every
 *                  session numbered up to N, and for no later one
 */
public record SessionRef(String sessionId, String nodeId, String transport, long since, long seq)
    implements Serializable {
}
