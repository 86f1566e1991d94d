package io.ostia.rdma.internal;

import io.ostia.rdma.MemoryAccess;

import java.lang.foreign.MemorySegment;
import java.util.Objects;
import java.util.Set;

/** Checks both providers apply before registering memory. */
public final class MemoryRegistration {
    private MemoryRegistration() {
    }

    /**
     * @throws IllegalArgumentException if the segment cannot be registered with these rights
     */
    public static void check(MemorySegment segment, Set<MemoryAccess> access) {
        Objects.requireNonNull(segment, "segment");
        Objects.requireNonNull(access, "access");
        if (!segment.isNative()) {
            throw new IllegalArgumentException("only native (off-heap) memory can be registered; got a heap segment " + segment);
        }
        if (segment.byteSize() == 0) {
            throw new IllegalArgumentException("cannot register an empty segment");
        }
        if (segment.isReadOnly() && (access.contains(MemoryAccess.LOCAL_WRITE) || access.contains(MemoryAccess.REMOTE_WRITE))) {
            throw new IllegalArgumentException("a read-only segment cannot be registered with write access " + access);
        }
        if (access.contains(MemoryAccess.REMOTE_WRITE) && !access.contains(MemoryAccess.LOCAL_WRITE)) {
            throw new IllegalArgumentException("REMOTE_WRITE access needs LOCAL_WRITE as well (verbs rule); got " + access);
        }
    }
}
