package io.ostia.rdma;

/**
 * A receive-queue work request ({@code struct ibv_recv_wr}). Mutable and reusable like
 * {@link SendWorkRequest}.
 */
public final class ReceiveWorkRequest {
    private final ScatterGatherList sgl = new ScatterGatherList();
    private long wrId;

    public ReceiveWorkRequest reset() {
        sgl.clear();
        wrId = 0;
        return this;
    }

    public ReceiveWorkRequest wrId(long id) {
        this.wrId = id;
        return this;
    }

    /** Adds a buffer to receive into; its region needs {@link MemoryAccess#LOCAL_WRITE}. */
    public ReceiveWorkRequest add(MemoryRegion region, long offset, int length) {
        sgl.add(region, offset, length);
        return this;
    }

    public ScatterGatherList scatterGather() {
        return sgl;
    }

    public long wrId() {
        return wrId;
    }
}
