package io.ostia.api.pdu;

import java.util.Objects;

/** Logout Response (RFC 7143 §11.15). Time2Wait / Time2Retain are in seconds. */
public record LogoutResponse(Response response, int initiatorTaskTag, int statSN, int expCmdSN, int maxCmdSN,
        int time2Wait, int time2Retain) implements HeaderOnlyPdu, FullFeatureTargetPdu {

    /** The responses of RFC 7143 §11.15.1. */
    public enum Response implements CodedValue {
        CLOSED_SUCCESSFULLY(0), CID_NOT_FOUND(1), RECOVERY_NOT_SUPPORTED(2), CLEANUP_FAILED(3);

        private final int code;

        Response(int code) {
            this.code = code;
        }

        @Override
        public int code() {
            return code;
        }
    }

    public LogoutResponse {
        Objects.requireNonNull(response, "response");
        PduChecks.unsigned16("Time2Wait", time2Wait);
        PduChecks.unsigned16("Time2Retain", time2Retain);
    }

    @Override
    public Opcode opcode() {
        return Opcode.LOGOUT_RESPONSE;
    }
}
