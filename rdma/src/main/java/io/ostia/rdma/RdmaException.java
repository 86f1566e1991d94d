package io.ostia.rdma;

import java.io.Serial;

/** A verbs or connection-manager operation failed. */
public class RdmaException extends RuntimeException {
    @Serial
    private static final long serialVersionUID = 1L;

    public RdmaException(String message) {
        super(message);
    }

    public RdmaException(String message, Throwable cause) {
        super(message, cause);
    }
}
