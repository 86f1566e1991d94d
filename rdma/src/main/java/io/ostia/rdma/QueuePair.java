package io.ostia.rdma;

/**
 * A reliable-connected queue pair ({@code struct ibv_qp}), created on a {@link CmId} and
 * connected by it.
 *
 * <p>Posting copies the request, so it can be reused at once. Moving to error flushes every
 * outstanding request (sends and receives) with a {@link WorkCompletionStatus#FLUSH_ERROR}
 * completion; that is how a teardown learns that all posted work is accounted for. Posting to a
 * queue pair already in the {@link QueuePairState#ERROR} state does not fail: a send completes
 * with a flush error at once, but a receive may never complete (Soft-RoCE leaves it queued;
 * other devices flush it), so a teardown must not wait for receives posted after the move to
 * error. Closing destroys it without further completions.
 */
public interface QueuePair extends RdmaResource {
    /** The queue pair number. */
    int number();

    /**
     * The state. On the native provider this is the state last set through verbs; a transition
     * the hardware makes by itself (to error after a failed request) shows in the completions.
     */
    QueuePairState state();

    ProtectionDomain protectionDomain();

    /**
     * Posts one send-queue request.
     *
     * @throws IllegalStateException if the queue pair is closed or not yet connected
     * @throws RdmaException if the send queue is full or the request exceeds the queue pair's
     *     limits (naming which)
     */
    void postSend(SendWorkRequest request);

    /** Posts one receive; same rules as {@link #postSend}, except it is allowed before connection. */
    void postReceive(ReceiveWorkRequest request);

    /** Moves the queue pair to {@link QueuePairState#ERROR}, flushing everything posted. Idempotent. */
    void moveToError();
}
