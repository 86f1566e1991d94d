package io.ostia.target.internal.iscsi;

import io.ostia.api.pdu.Pdu;

import java.io.IOException;

/**
 * What the target's session layer needs from one transport connection: sending PDUs and the
 * per-connection framing settings that login negotiates. The TCP portal implements it now; an
 * iSER portal can implement it later without the session layer knowing. The transport delivers
 * received PDUs to a {@link PduHandler}.
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

    /** Writes out whatever {@link #send} held back. */
    void flush() throws IOException;

    /** Switches digests for PDUs received and sent from now on (after the last login response). */
    void setDigests(boolean header, boolean data);

    /** The largest data segment accepted from the peer from the next PDU on. */
    void setMaxRecvDataSegmentLength(int bytes);

    /** The peer's address, for logs and errors. */
    String remoteAddress();

    /** The local IP address the peer connected to, for SendTargets. */
    String localAddress();

    /** The local port the peer connected to. */
    int localPort();

    /** Closes the connection; idempotent; the handler then sees {@link PduHandler#closed}. */
    void close();
}
