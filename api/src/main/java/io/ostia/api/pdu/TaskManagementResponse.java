package io.ostia.api.pdu;

import java.util.Objects;

/** Task Management Function Response (RFC 7143 §11.6). */
public record TaskManagementResponse(Response response, int initiatorTaskTag, int statSN, int expCmdSN,
        int maxCmdSN) implements HeaderOnlyPdu, FullFeatureTargetPdu {

    /** The responses of RFC 7143 §11.6.1. */
    public enum Response implements CodedValue {
        FUNCTION_COMPLETE(0), TASK_DOES_NOT_EXIST(1), LUN_DOES_NOT_EXIST(2), TASK_STILL_ALLEGIANT(3),
        TASK_ALLEGIANCE_REASSIGNMENT_NOT_SUPPORTED(4), FUNCTION_NOT_SUPPORTED(5), FUNCTION_AUTHORIZATION_FAILED(6),
        FUNCTION_REJECTED(255);

        private final int code;

        Response(int code) {
            this.code = code;
        }

        @Override
        public int code() {
            return code;
        }
    }

    public TaskManagementResponse {
        Objects.requireNonNull(response, "response");
    }

    @Override
    public Opcode opcode() {
        return Opcode.TASK_MANAGEMENT_RESPONSE;
    }

    public TaskManagementResponse withStatSN(int statSN, int expCmdSN, int maxCmdSN) {
        return new TaskManagementResponse(response, initiatorTaskTag, statSN, expCmdSN, maxCmdSN);
    }
}
