package io.ostia.api.spi;

import io.ostia.api.pdu.Pdu;
import io.ostia.api.pdu.ScsiResponseHolder;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * The session layer's side of a connection: where a transport delivers what it receives.
 *
 * <h2>Threads</h2>
 * Calls come from a thread of the transport, one at a time per connection:
 * <ul>
 *   <li>{@link #pduReceived} and {@link #commandWindowUpdate} in wire order, from the thread
 *       that takes the connection's input: TCP's receive thread, iSER's completion thread (it
 *       polls the completion queue where received Sends and RDMA completions arrive);</li>
 *   <li>{@link #connectionFailed} from that thread too: a read error, a malformed PDU, a failed
 *       work completion, and on iSER what its connection-manager event thread saw (the peer
 *       disconnected, the address changed, the device was removed), which that thread records
 *       and the completion thread reports, so that owner calls stay one at a time;</li>
 *   <li>{@link #transportLeaving} from the thread that makes the transport leave (the bundle's
 *       deactivation, or {@link IscsiTransport#close}).</li>
 * </ul>
 * They must not block on the network or wait for another PDU of the same connection;
 * {@link TransportConnection#sendPdu} and {@link TransportConnection#sendTask} may be called
 * from them. After {@link TransportConnection#stop} returns, no call comes for that connection.
 */
@ConsumerType
public interface ConnectionOwner {

    /**
     * A PDU for the session layer: every target PDU except those the transport consumes for
     * data movement (R2T, and Data-In without status). A Data-In that carries status is
     * delivered once its data is in the task's buffer, and stands for the SCSI response.
     */
    void pduReceived(Pdu pdu);

    /**
     * A SCSI Response the transport decoded into its connection's reusable holder rather than
     * into a record, as {@link #pduReceived} in every other respect (same thread, same order).
     * The holder is valid only during this call and changes with the next response: the owner
     * reads it here and keeps nothing of it ({@link ScsiResponseHolder#toRecord()} for what must
     * outlive the call). By default handed on as its record.
     *
     * @since 0.4
     */
    default void scsiResponseReceived(ScsiResponseHolder response) {
        pduReceived(response.toRecord());
    }

    /**
     * ExpCmdSN and MaxCmdSN seen in a PDU the transport consumed (Data-In, R2T), so the
     * session's command window keeps moving.
     */
    void commandWindowUpdate(int expCmdSN, int maxCmdSN);

    /** The StatSN the initiator expects next, for the ExpStatSN field of Data-Out PDUs. */
    int expectedStatSN();

    /**
     * The connection failed (peer closed, I/O error, malformed PDU, digest error); the cause
     * names what was wrong. The owner should start recovery: disconnect the endpoint and stop
     * the connection with {@link StopMode#RECOVER}. Called at most once per bind.
     */
    void connectionFailed(Throwable cause);

    /**
     * The transport is leaving (its bundle is stopping). The owner should move the session to
     * another transport now; connections still bound when the transport's release timeout
     * passes are force-released.
     */
    void transportLeaving(IscsiTransport transport);
}
