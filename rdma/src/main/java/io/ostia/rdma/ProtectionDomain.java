package io.ostia.rdma;

import java.lang.foreign.MemorySegment;
import java.util.Set;

/**
 * A protection domain ({@code struct ibv_pd}). Memory regions and queue pairs created in it may
 * only be used together. Closing it while regions or queue pairs are open fails.
 */
public interface ProtectionDomain extends RdmaResource {
    RdmaDevice device();

    /**
     * Registers native memory for RDMA. The segment must stay alive until the region is closed.
     *
     * @throws IllegalArgumentException if the segment is not native, is empty, or the rights ask
     *     for {@link MemoryAccess#REMOTE_WRITE} without {@link MemoryAccess#LOCAL_WRITE}
     */
    MemoryRegion registerMemory(MemorySegment segment, Set<MemoryAccess> access);
}
