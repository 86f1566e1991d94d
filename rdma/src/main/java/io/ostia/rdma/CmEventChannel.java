package io.ostia.rdma;

/**
 * A connection-manager event channel ({@code struct rdma_event_channel}) with its own delivery
 * thread, which calls the {@link CmEventHandler} given at creation. The thread stops when the
 * channel closes. Closing fails while ids created on it are open.
 */
public interface CmEventChannel extends RdmaResource {
    /** Creates a connection id (port space TCP, reliable connected); the caller owns it. */
    CmId createId();

    /** Name of the delivery thread, for diagnostics. */
    String threadName();
}
