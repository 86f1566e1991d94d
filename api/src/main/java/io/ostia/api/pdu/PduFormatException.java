package io.ostia.api.pdu;

import java.io.IOException;

/**
 * A PDU that breaks RFC 7143 or the negotiated limits: the connection that received it cannot go
 * on. {@link #field()} names the header field (or "HeaderDigest", "DataDigest") that was wrong.
 */
public final class PduFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    private final String field;

    public PduFormatException(String field, String message) {
        super(message);
        this.field = field;
    }

    /** The RFC 7143 name of the field that was wrong, such as "DataSegmentLength" or "Opcode". */
    public String field() {
        return field;
    }
}
