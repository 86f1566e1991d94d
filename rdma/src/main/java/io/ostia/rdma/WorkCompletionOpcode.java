package io.ostia.rdma;

/**
 * What a successful work completion completed ({@code enum ibv_wc_opcode}). Undefined for
 * completions with an error status, which report {@link #UNKNOWN}.
 */
public enum WorkCompletionOpcode {
    SEND(0),
    RDMA_WRITE(1),
    RDMA_READ(2),
    RECV(128),
    RECV_RDMA_WITH_IMMEDIATE(129),
    UNKNOWN(-1);

    private final int verbsCode;

    WorkCompletionOpcode(int verbsCode) {
        this.verbsCode = verbsCode;
    }

    public int verbsCode() {
        return verbsCode;
    }

    public static WorkCompletionOpcode fromVerbsCode(int code) {
        return switch (code) {
            case 0 -> SEND;
            case 1 -> RDMA_WRITE;
            case 2 -> RDMA_READ;
            case 128 -> RECV;
            case 129 -> RECV_RDMA_WITH_IMMEDIATE;
            default -> UNKNOWN;
        };
    }
}
