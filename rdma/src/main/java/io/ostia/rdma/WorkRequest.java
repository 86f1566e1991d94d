package io.ostia.rdma;

/**
 * What send and receive work requests share: the caller's id, returned in the completion, and
 * the scatter/gather list. Mutable and reusable; not safe for concurrent mutation.
 *
 * @param <R> the concrete request type, returned by the fluent setters
 */
public abstract sealed class WorkRequest<R extends WorkRequest<R>> permits SendWorkRequest, ReceiveWorkRequest {
    private final ScatterGatherList sgl = new ScatterGatherList();
    private long wrId;

    WorkRequest() {
    }

    /** The id the completion of this request carries. */
    public R wrId(long id) {
        this.wrId = id;
        return self();
    }

    /** Adds a buffer; see {@link ScatterGatherList#add(MemoryRegion, long, int)}. */
    public R add(MemoryRegion region, long offset, int length) {
        sgl.add(region, offset, length);
        return self();
    }

    public ScatterGatherList scatterGather() {
        return sgl;
    }

    public long wrId() {
        return wrId;
    }

    /** Clears the id and the scatter/gather list. */
    void clear() {
        sgl.clear();
        wrId = 0;
    }

    abstract R self();
}
