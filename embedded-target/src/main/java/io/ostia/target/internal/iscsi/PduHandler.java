package io.ostia.target.internal.iscsi;

import io.ostia.api.pdu.DataPlacement;
import io.ostia.api.pdu.Pdu;
import io.ostia.api.pdu.PduFormatException;

import java.io.IOException;

/** Receives what a {@link PduTransport} reads. All calls come from the transport's receive thread. */
public interface PduHandler extends DataPlacement {

    /** A well-formed PDU arrived. An exception closes the connection. */
    void received(Pdu pdu) throws IOException;

    /**
     * A PDU was malformed (header fields, lengths, digests); the transport closes the connection
     * after this returns, because framing can no longer be trusted.
     */
    void malformed(PduFormatException e);

    /** The connection ended: peer closed, I/O error ({@code cause} non-null) or local close. */
    void closed(Throwable cause);
}
