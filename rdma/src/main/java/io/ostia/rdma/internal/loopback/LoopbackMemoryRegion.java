package io.ostia.rdma.internal.loopback;

import io.ostia.rdma.MemoryAccess;
import io.ostia.rdma.ProtectionDomain;
import io.ostia.rdma.internal.AbstractMemoryRegion;

import java.lang.foreign.MemorySegment;
import java.util.Set;

final class LoopbackMemoryRegion extends AbstractMemoryRegion {
    private final LoopbackProtectionDomain pd;
    private boolean closed;

    LoopbackMemoryRegion(LoopbackProtectionDomain pd, MemorySegment segment, Set<MemoryAccess> access, int lkey, int rkey) {
        super(segment, access, lkey, rkey);
        this.pd = pd;
        pd.device.fabric.openObjects.opened(this);
    }

    @Override
    public ProtectionDomain protectionDomain() {
        return pd;
    }

    /** Whether [address, address+length) lies inside the region. */
    boolean contains(long address, long length) {
        long start = address();
        return address >= start && length >= 0 && address - start <= length() - length;
    }

    @Override
    public void close() {
        pd.device.fabric.lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            pd.byLkey.remove(lkey());
            pd.byRkey.remove(rkey());
            pd.device.fabric.openObjects.closed(this);
        } finally {
            pd.device.fabric.lock.unlock();
        }
    }

    @Override
    public boolean isClosed() {
        return pd.device.fabric.lockedTest(() -> closed);
    }

}
