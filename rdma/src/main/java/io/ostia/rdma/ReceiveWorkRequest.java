package io.ostia.rdma;

/**
 * A receive-queue work request ({@code struct ibv_recv_wr}); its buffers need
 * {@link MemoryAccess#LOCAL_WRITE}. Reusable like {@link SendWorkRequest}.
 */
public final class ReceiveWorkRequest extends WorkRequest<ReceiveWorkRequest> {
    /** Resets to an empty request with id 0. */
    public ReceiveWorkRequest reset() {
        clear();
        return this;
    }

    @Override
    ReceiveWorkRequest self() {
        return this;
    }
}
