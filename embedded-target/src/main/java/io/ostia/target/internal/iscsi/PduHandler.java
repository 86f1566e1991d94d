package io.ostia.target.internal.iscsi;

import io.ostia.api.pdu.DataPlacement;
import io.ostia.api.pdu.Pdu;
import io.ostia.api.pdu.PduFormatException;
import io.ostia.api.pdu.ScsiCommandHolder;

import java.io.IOException;

/** Receives what a {@link PduTransport} reads. All calls come from the transport's receive thread. */
public interface PduHandler extends DataPlacement {

    /** A well-formed PDU arrived. An exception closes the connection. */
    void received(Pdu pdu) throws IOException;

    /**
     * A well-formed SCSI Command, with its immediate data, that the transport decoded into its
     * reused holder: valid for this call only; whatever outlives it is copied ({@link
     * ScsiCommandHolder#toRecord()}). An exception closes the connection.
     */
    default void receivedCommand(ScsiCommandHolder command) throws IOException {
        received(command.toRecord());
    }

    /**
     * A PDU was malformed (header fields, lengths, digests); the transport closes the connection
     * after this returns, because framing can no longer be trusted.
     */
    void malformed(PduFormatException e);

    /** The connection ended: peer closed, I/O error ({@code cause} non-null) or local close. */
    void closed(Throwable cause);
}
