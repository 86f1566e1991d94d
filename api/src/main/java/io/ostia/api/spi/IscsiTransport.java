package io.ostia.api.spi;

import io.ostia.api.TransportException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Set;
import org.osgi.annotation.versioning.ProviderType;

/**
 * A way to carry iSCSI PDUs and data: the equivalent of Linux's {@code struct iscsi_transport}.
 *
 * <h2>Lifecycle of the transport itself</h2>
 * A transport is published (OSGi service, or {@link java.util.ServiceLoader} provider) only once
 * it can connect. When it leaves (its bundle stops, or {@link #close()} on the module path) it
 * keeps this order, which callers may rely on:
 * <ol>
 *   <li>new {@link #connect} calls fail with a {@link TransportException} saying the transport
 *       is leaving;</li>
 *   <li>the owner of every bound connection gets {@link ConnectionOwner#transportLeaving} so it
 *       can move its session elsewhere (logout, then login on another transport);</li>
 *   <li>releases already queued finish (bounded);</li>
 *   <li>connections still open are force-released, each named in an error log;</li>
 *   <li>only then is the service unregistered.</li>
 * </ol>
 *
 * <h2>Threads</h2>
 * Every method may be called from any thread. No method blocks for network I/O except
 * {@link TransportEndpoint#poll}; none calls back into the owner while the caller waits.
 * A transport calls its owners from its own threads, which {@link ConnectionOwner} names: TCP
 * from each connection's receive thread; iSER from each connection's completion thread, also for
 * what its connection-manager event thread saw (disconnects, device removal).
 */
@ProviderType
public interface IscsiTransport extends AutoCloseable {

    /** Service property naming the transport, as in a session's transport preference. */
    String NAME_PROPERTY = "io.ostia.transport.name";

    /** The transport's name: {@code "tcp"} or {@code "iser"}. */
    String name();

    Set<TransportCapability> capabilities();

    /**
     * How long this transport, when it leaves, waits for owners to release their connections
     * before it force-releases them. A session moving away bounds its drain by it. Ten seconds
     * unless the transport says otherwise.
     */
    default Duration releaseTimeout() {
        return Duration.ofSeconds(10);
    }

    /**
     * Starts connecting to {@code target} without waiting (Linux {@code ep_connect} with
     * non_blocking=1). Use {@link TransportEndpoint#poll} to wait for the result.
     *
     * @throws TransportException at once when the transport is leaving or the address cannot
     *                            be used; later connect failures are reported by poll
     */
    TransportEndpoint connect(InetSocketAddress target) throws TransportException;

    /**
     * Creates a connection object for {@code owner} (Linux {@code create_conn}); it carries
     * nothing until bound to an endpoint.
     *
     * @param queueDepth the most SCSI tasks the session keeps in flight on this connection (the
     *                   {@code cmds_max} Linux gives {@code create_session}): a transport sizes its
     *                   queues and pools by it (iSER: queue pair, completion queue, receive and
     *                   header buffers), and may refuse a task beyond it
     * @throws TransportException       the transport is leaving
     * @throws IllegalArgumentException {@code queueDepth} is less than 1
     */
    TransportConnection createConnection(ConnectionOwner owner, int queueDepth) throws TransportException;

    /**
     * Leaves as described above (the module-path equivalent of stopping the bundle).
     * Idempotent; bounded by the transport's release timeout.
     */
    @Override
    void close();
}
