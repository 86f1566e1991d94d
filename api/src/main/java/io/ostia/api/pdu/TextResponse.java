package io.ostia.api.pdu;

import java.lang.foreign.MemorySegment;

/**
 * Text Response (RFC 7143 §11.11). {@code continueFlag} means the text goes on in the next
 * response, which the initiator asks for with an empty Text Request echoing {@code targetTransferTag}.
 */
public record TextResponse(boolean finalFlag, boolean continueFlag, long lun, int initiatorTaskTag,
        int targetTransferTag, int statSN, int expCmdSN, int maxCmdSN, MemorySegment data)
        implements FullFeatureTargetPdu {

    public TextResponse {
        if (finalFlag && continueFlag) {
            throw new IllegalArgumentException("a Text Response cannot have both F and C set");
        }
        data = PduChecks.dataSegment(data);
    }

    @Override
    public Opcode opcode() {
        return Opcode.TEXT_RESPONSE;
    }

    @Override
    public TextResponse withData(MemorySegment data) {
        return new TextResponse(finalFlag, continueFlag, lun, initiatorTaskTag, targetTransferTag, statSN, expCmdSN,
                maxCmdSN, data);
    }

    public TextResponse withStatSN(int statSN, int expCmdSN, int maxCmdSN) {
        return new TextResponse(finalFlag, continueFlag, lun, initiatorTaskTag, targetTransferTag, statSN, expCmdSN,
                maxCmdSN, data);
    }
}
