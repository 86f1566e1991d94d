package io.ostia.api.spi;

import io.ostia.api.TransportException;
import io.ostia.api.pdu.Pdu;
import io.ostia.api.text.NegotiatedParameters;
import java.util.Map;
import org.osgi.annotation.versioning.ProviderType;

/**
 * A session connection's transport half (Linux {@code iscsi_cls_conn} with its transport data).
 *
 * <h2>States and orders</h2>
 * <pre>
 * created --bind--> bound --start--> started --stop--> stopped --bind--> bound ...
 *    any --destroy--> destroyed
 * </pre>
 * <ul>
 *   <li>{@link #bind} of a connection already bound fails ("already bound"), and so does a bind
 *       to an endpoint that is not up or is being torn down; neither changes any state.</li>
 *   <li>{@link #stop} without a bind, or twice, is a no-op.</li>
 *   <li>The endpoint may be disconnected before or after stop; both orders release
 *       everything.</li>
 *   <li>Before {@link #start}, only {@link #sendPdu} of login-phase PDUs is allowed;
 *       {@link #sendTask} needs a started connection.</li>
 * </ul>
 *
 * <h2>Threads</h2>
 * Methods may be called from any thread, including the owner's callbacks (which come from the
 * transport's receive or completion thread, or its connection-manager event thread: see {@link
 * ConnectionOwner}). {@link #sendPdu} and {@link #sendTask} may block while the transport's send
 * queue is full (bounded by the socket's or the send queue's progress); they never wait for a
 * response.
 */
@ProviderType
public interface TransportConnection {

    /**
     * Attaches this connection to an endpoint that is up (Linux {@code bind_conn}).
     *
     * @param leading true for the first connection of a session
     * @throws TransportException already bound, endpoint of another transport, endpoint not up
     *                            or already disconnecting; the message says which
     */
    void bind(TransportEndpoint endpoint, boolean leading) throws TransportException;

    /**
     * The login keys this connection contributes, in wire syntax: the keys of its wire and the
     * limits it can keep (iSER: {@code RDMAExtensions=Yes}, {@code InitiatorRecvDataSegmentLength}
     * sized to the receive buffers it posts, {@code MaxOutstandingUnexpectedPDUs}). The session
     * layer offers or declares them in place of its own values for the same keys. Empty when the
     * transport adds nothing (TCP). Fixed from creation; callable in any state.
     */
    Map<String, String> loginKeys();

    /**
     * Applies negotiated parameters: digests (they take effect with the first PDU after the
     * final login response, as RFC 7143 requires), data segment lengths, bursts, R2T limits.
     */
    void setParameters(NegotiatedParameters parameters);

    /** Enters full-feature phase: tasks may be sent (Linux {@code start_conn}). */
    void start() throws TransportException;

    /**
     * Stops the connection (Linux {@code stop_conn}): no more sends, the transport forgets every
     * task (the session layer fails or requeues them), the connection is unbound from its
     * endpoint. When this returns, the transport no longer touches any task buffer and makes no
     * more owner calls for this connection.
     */
    void stop(StopMode mode);

    /** Frees the connection; stops it first if needed. Idempotent. */
    void destroy();

    /**
     * Sends a PDU the session layer built: Login, Text, NOP-Out, Task Management, Logout, SNACK.
     *
     * @throws TransportException not bound, stopped, or the connection failed
     */
    void sendPdu(Pdu pdu) throws TransportException;

    /**
     * Sends a SCSI command and takes charge of its data movement until its response is
     * delivered, {@link #cleanupTask} is called, or the connection stops.
     *
     * @throws TransportException not started, stopped, or the connection failed
     */
    void sendTask(TransportTask task) throws TransportException;

    /**
     * Forgets a task whose response will not be waited for (aborted, timed out): the transport
     * stops moving its data and will not touch its buffer after this returns. Unknown tasks are
     * ignored.
     */
    void cleanupTask(TransportTask task);
}
