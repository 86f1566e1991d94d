package io.ostia.rdma;

/** Status of a work completion ({@code enum ibv_wc_status}), with the verbs codes. */
public enum WorkCompletionStatus {
    SUCCESS(0),
    LOCAL_LENGTH_ERROR(1),
    LOCAL_QP_OPERATION_ERROR(2),
    LOCAL_EEC_OPERATION_ERROR(3),
    LOCAL_PROTECTION_ERROR(4),
    /** The queue pair went to the error state before this work request was processed. */
    FLUSH_ERROR(5),
    MEMORY_WINDOW_BIND_ERROR(6),
    BAD_RESPONSE_ERROR(7),
    LOCAL_ACCESS_ERROR(8),
    REMOTE_INVALID_REQUEST_ERROR(9),
    /** The peer refused an RDMA access: unknown rkey, missing right, or outside the region. */
    REMOTE_ACCESS_ERROR(10),
    REMOTE_OPERATION_ERROR(11),
    RETRY_EXCEEDED(12),
    /** The peer had no receive posted (receiver not ready) after every retry. */
    RNR_RETRY_EXCEEDED(13),
    LOCAL_RDD_VIOLATION_ERROR(14),
    REMOTE_INVALID_RD_REQUEST_ERROR(15),
    REMOTE_ABORT_ERROR(16),
    INVALID_EECN_ERROR(17),
    INVALID_EEC_STATE_ERROR(18),
    FATAL_ERROR(19),
    RESPONSE_TIMEOUT_ERROR(20),
    GENERAL_ERROR(21);

    private static final WorkCompletionStatus[] BY_CODE = values();

    private final int verbsCode;

    WorkCompletionStatus(int verbsCode) {
        this.verbsCode = verbsCode;
    }

    public int verbsCode() {
        return verbsCode;
    }

    /** The status with this {@code IBV_WC_*} code; unknown codes map to {@link #GENERAL_ERROR}. */
    public static WorkCompletionStatus fromVerbsCode(int code) {
        return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : GENERAL_ERROR;
    }
}
