package io.ostia.api.pdu;

import java.lang.foreign.MemorySegment;

/**
 * NOP-In (RFC 7143 §11.19): the answer to a NOP-Out ping ({@code targetTransferTag} 0xffffffff),
 * or a target's own ping ({@code initiatorTaskTag} 0xffffffff, answered with a NOP-Out).
 */
public record NopIn(long lun, int initiatorTaskTag, int targetTransferTag, int statSN, int expCmdSN, int maxCmdSN,
        MemorySegment data) implements Pdu {

    public NopIn {
        data = PduChecks.dataSegment(data);
    }

    @Override
    public Opcode opcode() {
        return Opcode.NOP_IN;
    }

    @Override
    public NopIn withData(MemorySegment data) {
        return new NopIn(lun, initiatorTaskTag, targetTransferTag, statSN, expCmdSN, maxCmdSN, data);
    }

    public NopIn withStatSN(int statSN, int expCmdSN, int maxCmdSN) {
        return new NopIn(lun, initiatorTaskTag, targetTransferTag, statSN, expCmdSN, maxCmdSN, data);
    }
}
