package io.ostia.rdma.internal.ffm;

import io.ostia.rdma.CompletionQueue;
import io.ostia.rdma.DeviceLimits;
import io.ostia.rdma.ProtectionDomain;
import io.ostia.rdma.RdmaDevice;
import io.ostia.rdma.RdmaException;
import io.ostia.rdma.internal.ffm.gen.ibv_device_attr;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * An {@code ibv_context} opened and owned by librdmacm. While protection domains or completion
 * queues of ours are open on it, it holds a librdmacm reference on the context, so that the
 * context cannot close under them when the device is removed; see {@link DeviceContexts}.
 */
final class NativeDevice implements RdmaDevice {
    final NativeProvider provider;
    final MemorySegment context;
    /** The context's {@code struct ibv_device *}, to notice the device leaving the device list. */
    final MemorySegment ibvDevice;
    final Calls calls;
    private final String name;
    private volatile boolean removed;
    private volatile DeviceLimits limits;
    /** Our protection domains and completion queues open on the device; guarded by this. */
    private int objects;
    /** librdmacm's reference on the context while {@link #objects} is positive; guarded by this. */
    private MemorySegment pin;

    NativeDevice(NativeProvider provider, MemorySegment context, MemorySegment ibvDevice, String name) {
        this.provider = provider;
        this.context = context;
        this.ibvDevice = ibvDevice;
        this.calls = provider.calls();
        this.name = name;
    }

    /** Before creating an object of ours on the device: the first pins the context. */
    private synchronized void acquire() {
        requirePresent();
        if (objects == 0) {
            pin = provider.contexts.pin(this);
        }
        objects++;
    }

    /** After an object of ours on the device is freed (or failed to be created): the last unpins. */
    synchronized void release() {
        if (--objects == 0) {
            MemorySegment last = pin;
            pin = null;
            provider.contexts.unpin(last);
        }
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public DeviceLimits limits() {
        DeviceLimits known = limits;
        if (known == null) {
            requirePresent(); // a removed device's context may be closed already
            try (Arena call = Arena.ofConfined()) {
                MemorySegment attr = call.allocate(ibv_device_attr.layout());
                calls.ibvQueryDevice.invokeReturningErrno(context, attr);
                long maxRegion = ibv_device_attr.max_mr_size(attr);
                // uint64_t: devices without a limit report all ones, which is negative as a long.
                known = new DeviceLimits(ibv_device_attr.max_qp_wr(attr), ibv_device_attr.max_sge(attr),
                        ibv_device_attr.max_cqe(attr), maxRegion < 0 ? Long.MAX_VALUE : maxRegion);
            }
            limits = known;
        }
        return known;
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
        acquire();
        try {
            return new NativeProtectionDomain(this, calls.ibvAllocPd.invokePointer(context));
        } catch (RuntimeException e) {
            release();
            throw e;
        }
    }

    @Override
    public CompletionQueue createCompletionQueue(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("completion queue capacity must be at least 1, was " + capacity);
        }
        acquire();
        MemorySegment channel = MemorySegment.NULL;
        MemorySegment cq = MemorySegment.NULL;
        try {
            channel = calls.ibvCreateCompChannel.invokePointer(context);
            cq = calls.ibvCreateCq.invokePointer(context, capacity, MemorySegment.NULL, channel, 0);
            return new NativeCompletionQueue(this, cq, channel, capacity);
        } catch (RuntimeException e) {
            // The queue first: a channel with a queue still on it cannot be destroyed (EBUSY).
            try {
                if (!cq.equals(MemorySegment.NULL)) {
                    calls.ibvDestroyCq.invokeReturningErrno(cq);
                }
                if (!channel.equals(MemorySegment.NULL)) {
                    calls.ibvDestroyCompChannel.invokeReturningErrno(channel);
                }
                release();
            } catch (RuntimeException cleanup) {
                e.addSuppressed(cleanup);
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
