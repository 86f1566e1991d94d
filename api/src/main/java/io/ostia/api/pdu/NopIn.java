package io.ostia.api.pdu;

import java.lang.foreign.MemorySegment;

/**
 * NOP-In (RFC 7143 §11.19): the answer to a NOP-Out ping ({@code targetTransferTag} 0xffffffff),
 * or a target's own ping ({@code initiatorTaskTag} 0xffffffff, answered with a NOP-Out).
 */
public record NopIn(long lun, int initiatorTaskTag, int targetTransferTag, int statSN, int expCmdSN, int maxCmdSN,
        MemorySegment data) implements FullFeatureTargetPdu {

    public NopIn {
        data = PduChecks.dataSegment(data);
    }

    /**
     * A target's reply to an initiator's ping: same task tag, the ping data echoed. With Target
     * Transfer Tag 0xffffffff the LUN field is reserved (RFC 7143 §11.19), so it is 0, as tgtd sends it.
     */
    public static NopIn reply(NopOut ping, int statSN, int expCmdSN, int maxCmdSN) {
        return new NopIn(0, ping.initiatorTaskTag(), RESERVED_TAG, statSN, expCmdSN, maxCmdSN, ping.data());
    }

    @Override
    public Opcode opcode() {
        return Opcode.NOP_IN;
    }

    /** Always false: a NOP-In's StatSN is the next StatSN (RFC 7143 §11.19); only its window counts. */
    @Override
    public boolean statusPresent() {
        return false;
    }

    @Override
    public NopIn withData(MemorySegment data) {
        return new NopIn(lun, initiatorTaskTag, targetTransferTag, statSN, expCmdSN, maxCmdSN, data);
    }

    public NopIn withStatSN(int statSN, int expCmdSN, int maxCmdSN) {
        return new NopIn(lun, initiatorTaskTag, targetTransferTag, statSN, expCmdSN, maxCmdSN, data);
    }
}
