package io.ostia.rdma;

/** An RDMA object with one owner and an idempotent close. */
public interface RdmaResource extends AutoCloseable {
    /**
     * Releases the object. A second call does nothing.
     *
     * @throws IllegalStateException if objects created from this one are still open; the message
     *     names them and nothing is released
     * @throws RdmaException if the provider fails to release it
     */
    @Override
    void close();

    /** Whether {@link #close()} has completed. */
    boolean isClosed();
}
