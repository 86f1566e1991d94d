package io.ostia.rdma.internal.ffm;

import io.ostia.rdma.MemoryAccess;
import io.ostia.rdma.ProtectionDomain;
import io.ostia.rdma.internal.AbstractMemoryRegion;

import java.lang.foreign.MemorySegment;
import java.util.Set;

/** Owns one {@code ibv_mr}. */
final class NativeMemoryRegion extends AbstractMemoryRegion {
    private final NativeProtectionDomain pd;
    private final MemorySegment mr;
    private final Calls calls;
    private boolean closed;

    NativeMemoryRegion(NativeProtectionDomain pd, MemorySegment mr, MemorySegment segment, Set<MemoryAccess> access, int lkey, int rkey) {
        super(segment, access, lkey, rkey);
        this.pd = pd;
        this.mr = mr;
        this.calls = pd.device.calls;
        pd.device.provider.openObjects.opened(this);
    }

    @Override
    public ProtectionDomain protectionDomain() {
        return pd;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        calls.ibvDeregMr.invokeReturningErrno(mr);
        closed = true;
        pd.regions.remove(this);
        pd.device.provider.openObjects.closed(this);
    }

    @Override
    public synchronized boolean isClosed() {
        return closed;
    }

}
