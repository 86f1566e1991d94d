package io.ostia.rdma.internal.ffm;

import io.ostia.rdma.MemoryAccess;
import io.ostia.rdma.MemoryRegion;
import io.ostia.rdma.ProtectionDomain;
import io.ostia.rdma.internal.ffm.gen.Verbs;

import java.lang.foreign.MemorySegment;
import java.util.Set;

/** Owns one {@code ibv_mr}. */
final class NativeMemoryRegion implements MemoryRegion {
    private final NativeProtectionDomain pd;
    private final MemorySegment mr;
    private final MemorySegment segment;
    private final Set<MemoryAccess> access;
    private final int lkey;
    private final int rkey;
    private boolean closed;

    NativeMemoryRegion(NativeProtectionDomain pd, MemorySegment mr, MemorySegment segment, Set<MemoryAccess> access, int lkey, int rkey) {
        this.pd = pd;
        this.mr = mr;
        this.segment = segment;
        this.access = access;
        this.lkey = lkey;
        this.rkey = rkey;
        pd.device.provider.openObjects.opened(this);
    }

    @Override
    public ProtectionDomain protectionDomain() {
        return pd;
    }

    @Override
    public MemorySegment segment() {
        return segment;
    }

    @Override
    public long address() {
        return segment.address();
    }

    @Override
    public long length() {
        return segment.byteSize();
    }

    @Override
    public int lkey() {
        return lkey;
    }

    @Override
    public int rkey() {
        return rkey;
    }

    @Override
    public Set<MemoryAccess> access() {
        return access;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        Calls.checkReturnedErrno("ibv_dereg_mr", Verbs.ibv_dereg_mr(mr));
        closed = true;
        pd.regions.remove(this);
        pd.device.provider.openObjects.closed(this);
    }

    @Override
    public synchronized boolean isClosed() {
        return closed;
    }

    @Override
    public String toString() {
        return "memory region lkey=0x" + Integer.toHexString(lkey) + " (" + segment.byteSize() + " bytes) in " + pd;
    }
}
