package io.ostia.api.pdu;

import java.util.Objects;

/** Logout Request (RFC 7143 §11.14). {@code connectionId} matters for the connection reasons only. */
public record LogoutRequest(boolean immediate, Reason reason, int initiatorTaskTag, int connectionId, int cmdSN,
        int expStatSN) implements HeaderOnlyPdu {

    /** The reason codes of RFC 7143 §11.14.1. */
    public enum Reason implements CodedValue {
        CLOSE_SESSION(0), CLOSE_CONNECTION(1), REMOVE_CONNECTION_FOR_RECOVERY(2);

        private final int code;

        Reason(int code) {
            this.code = code;
        }

        @Override
        public int code() {
            return code;
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
}
