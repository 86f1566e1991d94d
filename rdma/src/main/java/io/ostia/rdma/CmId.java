package io.ostia.rdma;

import java.net.InetSocketAddress;
import java.time.Duration;

/**
 * A connection-manager id ({@code struct rdma_cm_id}): one endpoint of a reliable connection, or
 * a listener.
 *
 * <p>Active side: {@link #resolveAddress} → ADDR_RESOLVED → {@link #resolveRoute} →
 * ROUTE_RESOLVED → {@link #createQueuePair} → {@link #connect} → ESTABLISHED (or REJECTED,
 * UNREACHABLE, CONNECT_ERROR). Passive side: {@link #bind}, {@link #listen}; each CONNECT_REQUEST
 * brings a new id: {@link #createQueuePair}, then {@link #accept} (→ ESTABLISHED) or
 * {@link #reject}. Either side: {@link #disconnect} → DISCONNECTED → TIMEWAIT_EXIT.
 *
 * <p>Calls only start operations; results arrive as events on the channel. Closing the id
 * discards events not yet delivered for it, and fails while its queue pair is open.
 */
public interface CmId extends RdmaResource {
    CmEventChannel channel();

    /**
     * The device the id is bound to: known after ADDR_RESOLVED, for a bound listener on a
     * specific address, and for ids from CONNECT_REQUEST.
     *
     * @throws IllegalStateException if no device is bound yet
     */
    RdmaDevice device();

    /** Starts resolving {@code destination} (and the local device); source may be null. */
    void resolveAddress(InetSocketAddress source, InetSocketAddress destination, Duration timeout);

    void resolveRoute(Duration timeout);

    /** Binds to a local address (port 0 picks one); the wildcard address listens on every device. */
    void bind(InetSocketAddress address);

    void listen(int backlog);

    /** Local address, or null before bind/resolve. */
    InetSocketAddress localAddress();

    /** Peer address, or null if none. */
    InetSocketAddress remoteAddress();

    /** Creates the id's queue pair on its device; the caller owns it and closes it before the id. */
    QueuePair createQueuePair(ProtectionDomain pd, QueuePairAttributes attributes);

    /** The queue pair created on this id, or null. */
    QueuePair queuePair();

    /** Starts connecting; needs ROUTE_RESOLVED and a queue pair. */
    void connect(ConnectionParameters parameters);

    /** Accepts a CONNECT_REQUEST on this (new) id; needs a queue pair. */
    void accept(ConnectionParameters parameters);

    /** Rejects a CONNECT_REQUEST; the peer gets REJECTED with the private data. */
    void reject(byte[] privateData);

    /**
     * Moves the queue pair (if any) to error, so that everything posted flushes, and if the id
     * is connected starts the disconnect (DISCONNECTED here and at the peer, then
     * TIMEWAIT_EXIT). Idempotent; calling it on an id that never connected only does the first
     * part.
     */
    void disconnect();
}
