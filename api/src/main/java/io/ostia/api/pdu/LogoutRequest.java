package io.ostia.api.pdu;

import java.lang.foreign.MemorySegment;
import java.util.Objects;

/** Logout Request (RFC 7143 §11.14). {@code connectionId} matters for the connection reasons only. */
public record LogoutRequest(boolean immediate, Reason reason, int initiatorTaskTag, int connectionId, int cmdSN,
        int expStatSN) implements Pdu {

    /** The reason codes of RFC 7143 §11.14.1. */
    public enum Reason implements CodedValue {
        CLOSE_SESSION(0), CLOSE_CONNECTION(1), REMOVE_CONNECTION_FOR_RECOVERY(2);

        private static final Reason[] VALUES = values();
        private final int code;

        Reason(int code) {
            this.code = code;
        }

        @Override
        public int code() {
            return code;
        }

        static Reason fromCode(int code) throws PduFormatException {
            return CodedValue.find(VALUES, code, "ReasonCode");
        }
    }

    public LogoutRequest {
        Objects.requireNonNull(reason, "reason");
        PduChecks.unsigned16("CID", connectionId);
    }

    @Override
    public Opcode opcode() {
        return Opcode.LOGOUT_REQUEST;
    }

    @Override
    public MemorySegment data() {
        return NO_DATA;
    }

    @Override
    public LogoutRequest withData(MemorySegment data) {
        PduChecks.noData(opcode(), data);
        return this;
    }
}
