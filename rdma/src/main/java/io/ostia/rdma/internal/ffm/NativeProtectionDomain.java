package io.ostia.rdma.internal.ffm;

import io.ostia.rdma.MemoryAccess;
import io.ostia.rdma.MemoryRegion;
import io.ostia.rdma.ProtectionDomain;
import io.ostia.rdma.RdmaDevice;
import io.ostia.rdma.internal.MemoryRegistration;
import io.ostia.rdma.internal.OpenObjects;
import io.ostia.rdma.internal.ffm.gen.ibv_mr;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** Owns one {@code ibv_pd}. */
final class NativeProtectionDomain implements ProtectionDomain {
    final NativeDevice device;
    final MemorySegment pd;
    private final Calls calls;
    final Set<NativeMemoryRegion> regions = ConcurrentHashMap.newKeySet();
    final Set<NativeQueuePair> queuePairs = ConcurrentHashMap.newKeySet();
    private final long serial;
    private boolean closed;

    NativeProtectionDomain(NativeDevice device, MemorySegment pd) {
        this.device = device;
        this.pd = pd;
        this.calls = device.calls;
        this.serial = device.provider.openObjects.nextSerial();
        device.provider.openObjects.opened(this);
    }

    @Override
    public RdmaDevice device() {
        return device;
    }

    @Override
    public synchronized MemoryRegion registerMemory(MemorySegment segment, Set<MemoryAccess> access) {
        MemoryRegistration.check(segment, access);
        requireOpen();
        MemorySegment mrPointer = calls.ibvRegMr.invokePointer(pd, MemorySegment.ofAddress(segment.address()), segment.byteSize(), MemoryAccess.toVerbsFlags(access));
        MemorySegment mr = NativeAccess.struct(mrPointer, ibv_mr.layout());
        NativeMemoryRegion region;
        try {
            region = new NativeMemoryRegion(this, mr, segment, access, ibv_mr.lkey(mr), ibv_mr.rkey(mr));
        } catch (RuntimeException e) {
            try {
                calls.ibvDeregMr.invokeReturningErrno(mr); // nobody else owns it yet
            } catch (RuntimeException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
        regions.add(region);
        return region;
    }

    /** Runs {@code action} while this domain is open and cannot close. */
    synchronized <T> T whileOpen(java.util.function.Supplier<T> action) {
        requireOpen();
        return action.get();
    }

    synchronized void requireOpen() {
        if (closed) {
            throw new IllegalStateException(this + " is closed");
        }
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        List<Object> children = new ArrayList<>(regions);
        children.addAll(queuePairs);
        OpenObjects.requireNoneOpen(this, children);
        calls.ibvDeallocPd.invokeReturningErrno(pd);
        closed = true;
        device.provider.openObjects.closed(this);
        device.release();
    }

    @Override
    public synchronized boolean isClosed() {
        return closed;
    }

    @Override
    public String toString() {
        return "protection domain #" + serial + " on " + device.name();
    }
}
