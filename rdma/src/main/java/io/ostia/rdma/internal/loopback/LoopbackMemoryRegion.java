package io.ostia.rdma.internal.loopback;

import io.ostia.rdma.MemoryAccess;
import io.ostia.rdma.MemoryRegion;
import io.ostia.rdma.ProtectionDomain;

import java.lang.foreign.MemorySegment;
import java.util.Set;

final class LoopbackMemoryRegion implements MemoryRegion {
    private final LoopbackProtectionDomain pd;
    private final MemorySegment segment;
    private final Set<MemoryAccess> access;
    private final int lkey;
    private final int rkey;
    private boolean closed;

    LoopbackMemoryRegion(LoopbackProtectionDomain pd, MemorySegment segment, Set<MemoryAccess> access, int lkey, int rkey) {
        this.pd = pd;
        this.segment = segment;
        this.access = access;
        this.lkey = lkey;
        this.rkey = rkey;
        pd.device.fabric.openObjects.opened(this);
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

    /** Whether [address, address+length) lies inside the region. */
    boolean contains(long address, long length) {
        long start = segment.address();
        return address >= start && length >= 0 && address - start <= segment.byteSize() - length;
    }

    /** The region's bytes at a virtual address checked by {@link #contains}. */
    MemorySegment slice(long address, long length) {
        return segment.asSlice(address - segment.address(), length);
    }

    @Override
    public void close() {
        pd.device.fabric.lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            pd.byLkey.remove(lkey);
            pd.byRkey.remove(rkey);
            pd.device.fabric.openObjects.closed(this);
        } finally {
            pd.device.fabric.lock.unlock();
        }
    }

    @Override
    public boolean isClosed() {
        pd.device.fabric.lock.lock();
        try {
            return closed;
        } finally {
            pd.device.fabric.lock.unlock();
        }
    }

    @Override
    public String toString() {
        return "memory region lkey=0x" + Integer.toHexString(lkey) + " (" + segment.byteSize() + " bytes) in " + pd;
    }
}
