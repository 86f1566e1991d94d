package io.ostia.rdma;

import java.util.Set;

/** Access rights of a memory region ({@code enum ibv_access_flags}). */
public enum MemoryAccess {
    /** The local HCA may write: receives and RDMA Read targets need it. */
    LOCAL_WRITE(1),
    /** The peer may RDMA Write into the region. Requires {@link #LOCAL_WRITE}. */
    REMOTE_WRITE(1 << 1),
    /** The peer may RDMA Read from the region. */
    REMOTE_READ(1 << 2);

    private final int verbsFlag;

    MemoryAccess(int verbsFlag) {
        this.verbsFlag = verbsFlag;
    }

    /** The {@code IBV_ACCESS_*} bit. */
    public int verbsFlag() {
        return verbsFlag;
    }

    /** The {@code IBV_ACCESS_*} bits of a set of rights. */
    public static int toVerbsFlags(Set<MemoryAccess> access) {
        int flags = 0;
        for (MemoryAccess a : access) {
            flags |= a.verbsFlag;
        }
        return flags;
    }
}
