package io.ostia.rdma;

import java.io.Serial;

/**
 * A native libibverbs or librdmacm call failed. The message names the function, the errno and
 * its text, for example {@code rdma_create_event_channel failed: errno 19 (No such device)}.
 */
public final class NativeCallException extends RdmaException {
    @Serial
    private static final long serialVersionUID = 1L;

    private final String function;
    private final int errno;
    private final String errnoText;

    public NativeCallException(String function, int errno, String errnoText) {
        super(function + " failed: errno " + errno + " (" + errnoText + ")");
        this.function = function;
        this.errno = errno;
        this.errnoText = errnoText;
    }

    /** The C function that failed. */
    public String function() {
        return function;
    }

    /** The error number it reported (errno, or the error it returned). */
    public int errno() {
        return errno;
    }

    /** {@code strerror(errno)}. */
    public String errnoText() {
        return errnoText;
    }
}
