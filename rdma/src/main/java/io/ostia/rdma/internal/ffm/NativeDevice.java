package io.ostia.rdma.internal.ffm;

import io.ostia.rdma.CompletionQueue;
import io.ostia.rdma.DeviceLimits;
import io.ostia.rdma.ProtectionDomain;
import io.ostia.rdma.RdmaDevice;
import io.ostia.rdma.RdmaException;
import io.ostia.rdma.internal.ffm.gen.ibv_context;
import io.ostia.rdma.internal.ffm.gen.ibv_device_attr;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * An {@code ibv_context} opened and owned by librdmacm. While protection domains or completion
 * queues of ours are open on it, it holds a librdmacm reference on the context, so that the
 * context cannot close under them when the device is removed; see {@link DeviceContexts}.
 */
final class NativeDevice implements RdmaDevice {
    private static final System.Logger LOG = System.getLogger(NativeDevice.class.getName());
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
    /** The context's async event descriptor, made non-blocking on the first drain (-1 before); guarded by this. */
    private int asyncFd = -1;
    private boolean asyncEventsFailed;

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

    /**
     * Reads and acknowledges the context's async events, only while objects of ours pin the
     * context (without them librdmacm may have closed it). Every event must be acknowledged:
     * libibverbs' destroy of a queue pair or completion queue waits until each event reported
     * on it was. DEVICE_FATAL (a device that disassociates, or fails) marks the device removed.
     * On the watcher's thread.
     *
     * @param event    an {@code ibv_async_event} to read into ({@link DeviceContexts#ASYNC_EVENT})
     * @param readable the watcher's poll, pointed at this device's descriptor here
     */
    synchronized void drainAsyncEvents(MemorySegment event, NativeAccess.ReadableWait readable) {
        if (objects == 0 || asyncEventsFailed) {
            return;
        }
        try {
            if (asyncFd < 0) {
                int fd = ibv_context.async_fd(NativeAccess.struct(context, ibv_context.layout()));
                NativeAccess.setNonBlocking(fd);
                asyncFd = fd;
            }
            readable.watch(asyncFd);
            // Polled first: the capturing read allocates, a slice with no event must not.
            while (readable.await(0) && calls.ibvGetAsyncEvent.invokeIntUnlessWouldBlock(context, event)) {
                int type = event.get(JAVA_INT, DeviceContexts.ASYNC_EVENT_TYPE_OFFSET);
                calls.ibvAckAsyncEvent.invokeUnchecked(event);
                if (type == DeviceContexts.IBV_EVENT_DEVICE_FATAL) {
                    markRemoved();
                    LOG.log(System.Logger.Level.ERROR, this + ": fatal device error (IBV_EVENT_DEVICE_FATAL); it is removed");
                } else {
                    LOG.log(System.Logger.Level.DEBUG, () -> this + ": async event " + type);
                }
            }
        } catch (RuntimeException e) {
            asyncEventsFailed = true;
            LOG.log(System.Logger.Level.ERROR, this + ": cannot read its async events any more", e);
        }
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
