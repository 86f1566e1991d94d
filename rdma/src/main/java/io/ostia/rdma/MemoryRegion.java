package io.ostia.rdma;

import java.lang.foreign.MemorySegment;
import java.util.Set;

/** A registered memory region ({@code struct ibv_mr}). */
public interface MemoryRegion extends RdmaResource {
    ProtectionDomain protectionDomain();

    /** The registered memory; the caller's own segment. */
    MemorySegment segment();

    /** Virtual address of the first byte; the base of remote addresses the peer uses. */
    long address();

    long length();

    /** Key for local scatter/gather entries. */
    int lkey();

    /** Key the peer uses for RDMA Read/Write into this region. */
    int rkey();

    Set<MemoryAccess> access();
}
