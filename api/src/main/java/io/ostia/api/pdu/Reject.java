package io.ostia.api.pdu;

import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * Reject (RFC 7143 §11.17). The data segment is the rejected PDU's header; {@code dataSN} is the
 * DataSN/R2TSN field, meaningful when a data-related PDU or SNACK is rejected.
 */
public record Reject(Reason reason, int statSN, int expCmdSN, int maxCmdSN, int dataSN, MemorySegment data)
        implements FullFeatureTargetPdu {

    /** The reasons of RFC 7143 §11.17.1. */
    public enum Reason implements CodedValue {
        DATA_DIGEST_ERROR(0x02), SNACK_REJECT(0x03), PROTOCOL_ERROR(0x04), COMMAND_NOT_SUPPORTED(0x05),
        IMMEDIATE_COMMAND_REJECT(0x06), TASK_IN_PROGRESS(0x07), INVALID_DATA_ACK(0x08), INVALID_PDU_FIELD(0x09),
        LONG_OPERATION_REJECT(0x0a), NEGOTIATION_RESET(0x0b), WAITING_FOR_LOGOUT(0x0c);

        private final int code;

        Reason(int code) {
            this.code = code;
        }

        @Override
        public int code() {
            return code;
        }
    }

    public Reject {
        Objects.requireNonNull(reason, "reason");
        data = PduChecks.dataSegment(data);
    }

    @Override
    public Opcode opcode() {
        return Opcode.REJECT;
    }

    /** Always {@link Pdu#RESERVED_TAG}: the rejected PDU's tag is inside the data segment. */
    @Override
    public int initiatorTaskTag() {
        return RESERVED_TAG;
    }

    @Override
    public Reject withData(MemorySegment data) {
        return new Reject(reason, statSN, expCmdSN, maxCmdSN, dataSN, data);
    }
}
