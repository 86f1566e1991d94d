package io.ostia.rdma.internal.ffm;

import io.ostia.rdma.internal.ffm.gen.ibv_comp_channel;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;

/**
 * The completion-event wait of one CQ and its channel, as a data-path operation: the pollfd, the
 * errno capture and the out-pointers are allocated once in the CQ's arena, and the calls are
 * exact-typed handles, so a wait allocates nothing. Events are acknowledged in batches
 * ({@code ibv_ack_cq_events} takes a mutex; its man page recommends amortising it), and
 * {@link #acknowledgeAll} must run before {@code ibv_destroy_cq}, which waits for every event
 * to be acknowledged. Not thread-safe: the owner serialises waits and the final acknowledgement.
 */
final class CompletionWait {
    /** Events acknowledged per ibv_ack_cq_events call. */
    static final int ACK_BATCH = 16;

    private final MethodHandle getCqEvent;
    private final NativeCall getCqEventCapturing;
    private final MethodHandle ackCqEvents;
    private final MemorySegment channel;
    private final MemorySegment cq;
    private final NativeAccess.ReadableWait readable;
    private final MemorySegment cqOut;
    private final MemorySegment contextOut;
    private int unacknowledged;

    /** For {@code cq} and its {@code channel} ({@code ibv_comp_channel}); resources from {@code arena}. */
    CompletionWait(Calls calls, MemorySegment cq, MemorySegment channel, Arena arena) {
        this.getCqEvent = calls.ibvGetCqEventUncaptured;
        this.getCqEventCapturing = calls.ibvGetCqEvent;
        this.ackCqEvents = calls.ibvAckCqEvents;
        this.channel = channel;
        this.cq = cq;
        this.readable = new NativeAccess.ReadableWait(ibv_comp_channel.fd(channel), arena);
        this.cqOut = arena.allocate(ADDRESS);
        this.contextOut = arena.allocate(ADDRESS);
    }

    /**
     * Waits up to {@code timeoutMillis} for the channel to report an event, and reads it.
     *
     * @return true if an event was read, false on timeout or a signal
     */
    boolean await(int timeoutMillis) {
        if (!readable.await(timeoutMillis)) {
            return false;
        }
        int rc;
        try {
            rc = (int) getCqEvent.invokeExact(channel.address(), cqOut.address(), contextOut.address());
        } catch (Throwable t) {
            throw new IllegalStateException("ibv_get_cq_event downcall failed", t);
        }
        if (rc == -1) {
            // errno is gone: re-run capturing it; it reads the event or throws naming errno.
            // (NativeAccess.ReadableWait.await re-runs a failed poll the same way.)
            getCqEventCapturing.invokeInt(channel, cqOut, contextOut);
        }
        if (++unacknowledged >= ACK_BATCH) {
            acknowledgeAll();
        }
        return true;
    }

    /** Acknowledges every event read and not yet acknowledged. */
    void acknowledgeAll() {
        if (unacknowledged == 0) {
            return;
        }
        try {
            ackCqEvents.invokeExact(cq.address(), unacknowledged);
        } catch (Throwable t) {
            throw new IllegalStateException("ibv_ack_cq_events downcall failed", t);
        }
        unacknowledged = 0;
    }
}
