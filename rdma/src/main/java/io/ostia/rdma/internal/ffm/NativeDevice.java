package io.ostia.rdma.internal.ffm;

import io.ostia.rdma.CompletionQueue;
import io.ostia.rdma.ProtectionDomain;
import io.ostia.rdma.RdmaDevice;
import io.ostia.rdma.RdmaException;
import io.ostia.rdma.internal.ffm.gen.Verbs;

import java.lang.foreign.MemorySegment;

/** An {@code ibv_context} opened and owned by librdmacm. */
final class NativeDevice implements RdmaDevice {
    final NativeProvider provider;
    final MemorySegment context;
    private final String name;
    private volatile boolean removed;

    NativeDevice(NativeProvider provider, MemorySegment context, String name) {
        this.provider = provider;
        this.context = context;
        this.name = name;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public boolean isRemoved() {
        return removed;
    }

    void markRemoved() {
        removed = true;
    }

    @Override
    public ProtectionDomain allocateProtectionDomain() {
        requirePresent();
        return new NativeProtectionDomain(this, Calls.IBV_ALLOC_PD.invokePointer(context));
    }

    @Override
    public CompletionQueue createCompletionQueue(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("completion queue capacity must be at least 1, was " + capacity);
        }
        requirePresent();
        MemorySegment channel = Calls.IBV_CREATE_COMP_CHANNEL.invokePointer(context);
        try {
            MemorySegment cq = Calls.IBV_CREATE_CQ.invokePointer(context, capacity, MemorySegment.NULL, channel, 0);
            return new NativeCompletionQueue(this, cq, channel, capacity);
        } catch (RuntimeException e) {
            int rc = Verbs.ibv_destroy_comp_channel(channel);
            if (rc != 0) {
                e.addSuppressed(NativeAccess.failure("ibv_destroy_comp_channel", rc));
            }
            throw e;
        }
    }

    private void requirePresent() {
        if (removed) {
            throw new RdmaException("RDMA device " + name + " was removed");
        }
    }

    @Override
    public String toString() {
        return "RDMA device " + name;
    }
}
