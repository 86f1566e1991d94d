package io.ostia.api.pdu;

import io.ostia.api.ProtocolException;

/**
 * A PDU that breaks RFC 7143 or the negotiated limits: the connection that received it cannot go
 * on. {@link #field()} names the header field (or "HeaderDigest", "DataDigest") that was wrong.
 */
public final class PduFormatException extends ProtocolException {
    private static final long serialVersionUID = 1L;

    /** @param field the RFC 7143 name of the field that was wrong, such as "DataSegmentLength" or "Opcode" */
    public PduFormatException(String field, String message) {
        super(field, message);
    }
}
