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

    /** An initiator's ping, immediate so that it passes a closed command window; numbered when sent. */
    public static NopOut ping(int initiatorTaskTag, MemorySegment data) {
        return new NopOut(true, 0, initiatorTaskTag, RESERVED_TAG, 0, 0, data);
    }

    /**
     * The answer to a target's ping (a NOP-In whose Target Transfer Tag is not 0xffffffff): it
     * echoes LUN and Target Transfer Tag, has no task tag, and is immediate (RFC 7143 §11.18).
     */
    public static NopOut answering(NopIn ping, int cmdSN, int expStatSN) {
        if (ping.targetTransferTag() == RESERVED_TAG) {
            throw new IllegalArgumentException("a NOP-In with Target Transfer Tag 0xffffffff asks for no answer");
        }
        return new NopOut(true, ping.lun(), RESERVED_TAG, ping.targetTransferTag(), cmdSN, expStatSN, NO_DATA);
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
