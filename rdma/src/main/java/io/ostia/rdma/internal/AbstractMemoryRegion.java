package io.ostia.rdma.internal;

import io.ostia.rdma.MemoryAccess;
import io.ostia.rdma.MemoryRegion;

import java.lang.foreign.MemorySegment;
import java.util.Set;

/** What both providers' memory regions hold: the caller's segment, the rights and the keys. */
public abstract class AbstractMemoryRegion implements MemoryRegion {
    private final MemorySegment segment;
    private final Set<MemoryAccess> access;
    private final int lkey;
    private final int rkey;

    protected AbstractMemoryRegion(MemorySegment segment, Set<MemoryAccess> access, int lkey, int rkey) {
        this.segment = segment;
        this.access = Set.copyOf(access);
        this.lkey = lkey;
        this.rkey = rkey;
    }

    @Override
    public final MemorySegment segment() {
        return segment;
    }

    @Override
    public final long address() {
        return segment.address();
    }

    @Override
    public final long length() {
        return segment.byteSize();
    }

    @Override
    public final int lkey() {
        return lkey;
    }

    @Override
    public final int rkey() {
        return rkey;
    }

    @Override
    public final Set<MemoryAccess> access() {
        return access;
    }

    @Override
    public String toString() {
        return "memory region lkey=0x" + Integer.toHexString(lkey) + " (" + segment.byteSize() + " bytes) in " + protectionDomain();
    }
}
