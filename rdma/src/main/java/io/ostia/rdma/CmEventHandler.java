package io.ostia.rdma;

/**
 * Receives connection-manager events on the event channel's thread, one at a time, in the order
 * the provider produced them. It must not block for long: the next event waits for it. It may
 * call any method of the ids, including {@link CmId#close()} and closing other ids, but not
 * {@link CmEventChannel#close()} (that waits for this thread). An exception it throws is logged
 * and delivery goes on.
 */
@FunctionalInterface
public interface CmEventHandler {
    void onEvent(CmEvent event);
}
