package io.ostia.api.pdu;

import java.lang.foreign.MemorySegment;

/**
 * NOP-Out (RFC 7143 §11.18): a ping from the initiator, or the answer to a target's NOP-In (then
 * {@code targetTransferTag} echoes the NOP-In's and {@code initiatorTaskTag} is {@link
 * Pdu#RESERVED_TAG}).
 */
public record NopOut(boolean immediate, long lun, int initiatorTaskTag, int targetTransferTag,
        int cmdSN, int expStatSN, MemorySegment data) implements Pdu {

    public NopOut {
        data = PduChecks.dataSegment(data);
    }

    @Override
    public Opcode opcode() {
        return Opcode.NOP_OUT;
    }

    @Override
    public NopOut withData(MemorySegment data) {
        return new NopOut(immediate, lun, initiatorTaskTag, targetTransferTag, cmdSN, expStatSN, data);
    }

    public NopOut withCmdSN(int cmdSN, int expStatSN) {
        return new NopOut(immediate, lun, initiatorTaskTag, targetTransferTag, cmdSN, expStatSN, data);
    }
}
