package io.ostia.rdma;

/**
 * One work completion ({@code struct ibv_wc}). A mutable holder that
 * {@link CompletionQueue#poll(WorkCompletion[])} fills in place, so polling allocates nothing.
 */
public final class WorkCompletion {
    private long wrId;
    private WorkCompletionStatus status = WorkCompletionStatus.SUCCESS;
    private WorkCompletionOpcode opcode = WorkCompletionOpcode.UNKNOWN;
    private int byteLength;
    private int immediateData;
    private boolean hasImmediate;
    private int queuePairNumber;
    private int vendorError;

    /** Fills every field; used by providers. */
    public void set(long wrId, WorkCompletionStatus status, WorkCompletionOpcode opcode, int byteLength,
                    boolean hasImmediate, int immediateData, int queuePairNumber, int vendorError) {
        this.wrId = wrId;
        this.status = status;
        this.opcode = status == WorkCompletionStatus.SUCCESS ? opcode : WorkCompletionOpcode.UNKNOWN;
        this.byteLength = byteLength;
        this.hasImmediate = hasImmediate;
        this.immediateData = immediateData;
        this.queuePairNumber = queuePairNumber;
        this.vendorError = vendorError;
    }

    public long wrId() {
        return wrId;
    }

    public WorkCompletionStatus status() {
        return status;
    }

    public boolean isSuccess() {
        return status == WorkCompletionStatus.SUCCESS;
    }

    public WorkCompletionOpcode opcode() {
        return opcode;
    }

    /** Bytes received (receives) or transferred (RDMA Read). */
    public int byteLength() {
        return byteLength;
    }

    public boolean hasImmediate() {
        return hasImmediate;
    }

    public int immediateData() {
        return immediateData;
    }

    public int queuePairNumber() {
        return queuePairNumber;
    }

    public int vendorError() {
        return vendorError;
    }

    @Override
    public String toString() {
        return "WorkCompletion[wrId=" + wrId + ", status=" + status + ", opcode=" + opcode + ", byteLength="
                + byteLength + (hasImmediate ? ", imm=" + immediateData : "") + ", qp=" + queuePairNumber + "]";
    }
}
