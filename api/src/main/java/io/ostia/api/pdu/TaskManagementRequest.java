package io.ostia.api.pdu;

import java.util.Objects;

/**
 * Task Management Function Request (RFC 7143 §11.5). {@code referencedTaskTag} and {@code
 * refCmdSN} matter for ABORT TASK, {@code expDataSN} for TASK REASSIGN.
 */
public record TaskManagementRequest(boolean immediate, Function function, long lun, int initiatorTaskTag,
        int referencedTaskTag, int cmdSN, int expStatSN, int refCmdSN, int expDataSN) implements HeaderOnlyPdu {

    /** The task management functions of RFC 7143 §11.5.1. */
    public enum Function implements CodedValue {
        ABORT_TASK(1), ABORT_TASK_SET(2), CLEAR_ACA(3), CLEAR_TASK_SET(4), LOGICAL_UNIT_RESET(5),
        TARGET_WARM_RESET(6), TARGET_COLD_RESET(7), TASK_REASSIGN(8);

        private final int code;

        Function(int code) {
            this.code = code;
        }

        @Override
        public int code() {
            return code;
        }
    }

    public TaskManagementRequest {
        Objects.requireNonNull(function, "function");
    }

    @Override
    public Opcode opcode() {
        return Opcode.TASK_MANAGEMENT_REQUEST;
    }

    public TaskManagementRequest withCmdSN(int cmdSN, int expStatSN) {
        return new TaskManagementRequest(immediate, function, lun, initiatorTaskTag, referencedTaskTag, cmdSN,
                expStatSN, refCmdSN, expDataSN);
    }
}
