package io.ostia.target.internal.iscsi;

import io.ostia.api.pdu.Pdu;
import io.ostia.api.pdu.ScsiResponseHolder;

import java.io.IOException;
import java.util.Map;

/**
 * What the target's session layer needs from one transport connection: sending PDUs and the
 * per-connection framing settings that login negotiates. The TCP and iSER portals implement it;
 * the transport delivers received PDUs to a {@link PduHandler}.
 */
public interface PduTransport {

    /**
     * Sends a PDU. Thread-safe. The transport may hold it back until {@link #flush()} when called
     * from its own receive thread while it is working through received PDUs; from any other
     * thread it is on the wire (or in the kernel) when this returns.
     *
     * @throws IOException when the connection is broken or closed
     */
    void send(Pdu pdu) throws IOException;

    /**
     * Sends the SCSI Response in {@code response}, a holder the caller reuses: read during this
     * call only, never kept. As {@link #send} in every other respect; by default sent as its record.
     */
    default void sendScsiResponse(ScsiResponseHolder response) throws IOException {
        send(response.toRecord());
    }

    /** Writes out whatever {@link #send} held back. */
    void flush() throws IOException;

    /** Switches digests for PDUs received and sent from now on (after the last login response). */
    void setDigests(boolean header, boolean data);

    /** The largest data segment accepted from the peer from the next PDU on. */
    void setMaxRecvDataSegmentLength(int bytes);

    /**
     * Login keys this transport sets, over the target's own: for iSER, RDMAExtensions=Yes, digests
     * None and the TargetRecvDataSegmentLength its receive buffers hold. Empty for TCP.
     */
    default Map<String, String> loginKeys() {
        return Map.of();
    }

    /** Login completed on this connection: the transport may now take the resources of the full feature phase. */
    default void loggedIn() {
    }

    /** Whether login must end in iSER-assisted mode (RDMAExtensions=Yes) on this transport. */
    default boolean requiresRdmaExtensions() {
        return false;
    }

    /** The peer's address, for logs and errors. */
    String remoteAddress();

    /** The local IP address the peer connected to, for SendTargets. */
    String localAddress();

    /** The local port the peer connected to. */
    int localPort();

    /** Closes the connection; idempotent; the handler then sees {@link PduHandler#closed}. */
    void close();
}
