package io.ostia.api.text;

import java.io.IOException;

/**
 * A negotiation that cannot go on: a peer's answer breaks its key's result function, a key is
 * negotiated twice, or the results contradict each other. For a target this means a Login
 * Response with an initiator error; for an initiator, dropping the connection (RFC 7143 §6.2).
 */
public final class NegotiationException extends IOException {
    private static final long serialVersionUID = 1L;

    private final String key;

    public NegotiationException(String key, String message) {
        super(message);
        this.key = key;
    }

    /** The key at fault. */
    public String key() {
        return key;
    }
}
