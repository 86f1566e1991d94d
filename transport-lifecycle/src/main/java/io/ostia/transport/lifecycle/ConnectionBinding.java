package io.ostia.transport.lifecycle;

import io.ostia.api.TransportException;
import io.ostia.api.pdu.Pdu;
import io.ostia.api.spi.StopMode;
import io.ostia.api.spi.TransportEndpoint;
import io.ostia.api.spi.TransportTask;
import io.ostia.api.text.NegotiatedParameters;

/**
 * One bind of a connection to an endpoint: the transport's wire for it (TCP: socket, receive
 * thread, task table; iSER: queue pair, receive buffers). Made by a {@link ConnectionBinder},
 * retired whole by the connection's stop, never reused: a later bind (recovery) makes a new one.
 *
 * <p>{@link LifecycleConnection} has checked the SPI state before each call (bound, started),
 * so a binding only checks its own health. Calls marked "under the lifecycle lock" must not
 * wait for I/O or for a thread.
 */
public interface ConnectionBinding {

    /** The endpoint this binding carries the connection on. */
    TransportEndpoint endpoint();

    /**
     * Throws, saying why, when the wire can no longer carry anything (failed, disconnected).
     * Under the lifecycle lock.
     */
    void requireHealthy(String what) throws TransportException;

    /** Negotiated parameters for this bind. Under the lifecycle lock. */
    void setParameters(NegotiatedParameters parameters);

    /** The connection entered full-feature phase. Under the lifecycle lock. */
    void started();

    /**
     * Stop began: from now on the binding makes no owner call. Under the lifecycle lock; the
     * work of stopping is {@link #retire}.
     */
    void stopRequested();

    /**
     * Stops the wire (Linux {@code stop_conn}): no more sends, every task forgotten once nobody
     * touches its buffer, unbound from the endpoint (which completes a release queued by an
     * earlier disconnect). Called once, without the lifecycle lock; may come from the
     * binding's own callback thread.
     */
    void retire(StopMode mode);

    /** Whether the calling thread is the one that makes this binding's owner calls. */
    boolean isCallbackThread();

    /** A PDU that is not a SCSI command or Data-Out; the lifecycle checked the phase. */
    void sendPdu(Pdu pdu) throws TransportException;

    /** A SCSI command on a started connection, with its data movement. */
    void sendTask(TransportTask task) throws TransportException;

    /** Forgets a task; returns once its buffer is no longer touched. Unknown tasks are ignored. */
    void cleanupTask(TransportTask task);

    /**
     * Leaving's force-release: reports {@code cause} to the owner as a connection failure, from
     * the thread that makes owner calls, and returns once that call is over (bounded); the
     * lifecycle stops the connection next.
     */
    void failAndAwaitReport(TransportException cause);
}
