package io.ostia.api;

/**
 * The peer broke the iSCSI protocol (a PDU that is malformed or out of place); the connection
 * it arrived on is failed.
 */
public class ProtocolException extends IscsiException {
    private final String field;

    /** @param field the PDU field or protocol element that was wrong */
    public ProtocolException(String field, String message) {
        super(message);
        this.field = field;
    }

    public ProtocolException(String field, String message, Throwable cause) {
        super(message, cause);
        this.field = field;
    }

    public String field() {
        return field;
    }
}
