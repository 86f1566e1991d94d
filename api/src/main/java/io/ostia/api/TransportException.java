package io.ostia.api;

/**
 * A transport could not carry the session: connect failed, the connection broke, the transport
 * is leaving, or a lifecycle call came in an order the transport contract forbids.
 */
public class TransportException extends IscsiException {
    public TransportException(String message) {
        super(message);
    }

    public TransportException(String message, Throwable cause) {
        super(message, cause);
    }
}
