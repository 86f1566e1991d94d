package io.ostia.rdma;

/** Operation of a send work request ({@code enum ibv_wr_opcode}). */
public enum SendOpcode {
    RDMA_WRITE(0),
    RDMA_WRITE_WITH_IMMEDIATE(1),
    SEND(2),
    SEND_WITH_IMMEDIATE(3),
    RDMA_READ(4);

    private final int verbsCode;

    SendOpcode(int verbsCode) {
        this.verbsCode = verbsCode;
    }

    public int verbsCode() {
        return verbsCode;
    }

    /** Whether the operation addresses remote memory (needs a remote address and rkey). */
    public boolean isRdma() {
        return this == RDMA_WRITE || this == RDMA_WRITE_WITH_IMMEDIATE || this == RDMA_READ;
    }

    /** Whether the operation carries immediate data (and consumes a receive at the peer). */
    public boolean hasImmediate() {
        return this == RDMA_WRITE_WITH_IMMEDIATE || this == SEND_WITH_IMMEDIATE;
    }

    /** The completion opcode a successful request of this kind reports. */
    public WorkCompletionOpcode completionOpcode() {
        return switch (this) {
            case RDMA_WRITE, RDMA_WRITE_WITH_IMMEDIATE -> WorkCompletionOpcode.RDMA_WRITE;
            case SEND, SEND_WITH_IMMEDIATE -> WorkCompletionOpcode.SEND;
            case RDMA_READ -> WorkCompletionOpcode.RDMA_READ;
        };
    }
}
