package io.ostia.api.pdu;

import java.lang.foreign.MemorySegment;
import java.util.Objects;

/** SNACK Request (RFC 7143 §11.16): asks the target to resend data, R2Ts or status. */
public record SnackRequest(Type type, long lun, int initiatorTaskTag, int targetTransferTag, int expStatSN,
        int begRun, int runLength) implements Pdu {

    /** The SNACK types of RFC 7143 §11.16.1. */
    public enum Type implements CodedValue {
        DATA_R2T(0), STATUS(1), DATA_ACK(2), R_DATA(3);

        private static final Type[] VALUES = values();
        private final int code;

        Type(int code) {
            this.code = code;
        }

        @Override
        public int code() {
            return code;
        }

        static Type fromCode(int code) throws PduFormatException {
            return CodedValue.find(VALUES, code, "Type");
        }
    }

    public SnackRequest {
        Objects.requireNonNull(type, "type");
    }

    @Override
    public Opcode opcode() {
        return Opcode.SNACK_REQUEST;
    }

    @Override
    public MemorySegment data() {
        return NO_DATA;
    }

    @Override
    public SnackRequest withData(MemorySegment data) {
        PduChecks.noData(opcode(), data);
        return this;
    }
}
