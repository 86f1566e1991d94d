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
 * {@link #reject}. Either side: {@link #disconnect}, answered by the peer's own
 * {@link #disconnect} → DISCONNECTED → TIMEWAIT_EXIT (see {@link #disconnect}).
 *
 * <p>Calls only start operations; results arrive as events on the channel. Closing the id
 * discards events not yet delivered for it, and fails while its queue pair is open.
 *
 * <p>On DEVICE_REMOVAL the queue pair is already in error (its work flushes); the owner then
 * closes, child first, the queue pair, regions, completion queues, protection domain and the
 * id. A connected peer on another device gets DISCONNECTED.
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
     * was connected takes this side's part in the disconnect, which is a request and a reply (as
     * the IB CM's DREQ and DREP):
     * <ul>
     * <li>the side that disconnects first sends the request: the peer gets DISCONNECTED at once
     *     (its queue pair is left as it is), this side gets nothing yet;
     * <li>the peer answers by calling {@code disconnect()} itself (closing its id answers too):
     *     the first side then gets DISCONNECTED, and each side TIMEWAIT_EXIT after its part.
     *     An id that got DISCONNECTED must therefore still call {@code disconnect()}; without
     *     the answer the first side waits for the CM's timeout.
     * </ul>
     * Idempotent: later calls only move the queue pair to error again. On an id that never
     * connected it only does that.
     */
    void disconnect();
}
