package io.ostia.api.pdu;

import java.util.Objects;

/** SNACK Request (RFC 7143 §11.16): asks the target to resend data, R2Ts or status. */
public record SnackRequest(Type type, long lun, int initiatorTaskTag, int targetTransferTag, int expStatSN,
        int begRun, int runLength) implements HeaderOnlyPdu {

    /** The SNACK types of RFC 7143 §11.16.1. */
    public enum Type implements CodedValue {
        DATA_R2T(0), STATUS(1), DATA_ACK(2), R_DATA(3);

        private final int code;

        Type(int code) {
            this.code = code;
        }

        @Override
        public int code() {
            return code;
        }
    }

    public SnackRequest {
        Objects.requireNonNull(type, "type");
    }

    @Override
    public Opcode opcode() {
        return Opcode.SNACK_REQUEST;
    }
}
