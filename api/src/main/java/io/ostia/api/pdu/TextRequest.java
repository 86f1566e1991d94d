package io.ostia.api.pdu;

import java.lang.foreign.MemorySegment;

/**
 * Text Request (RFC 7143 §11.10). With {@code continueFlag} the text goes on in the next PDU;
 * {@code targetTransferTag} is 0xffffffff except when continuing an exchange the target started.
 */
public record TextRequest(boolean immediate, boolean finalFlag, boolean continueFlag, long lun,
        int initiatorTaskTag, int targetTransferTag, int cmdSN, int expStatSN, MemorySegment data) implements Pdu {

    public TextRequest {
        if (finalFlag && continueFlag) {
            throw new IllegalArgumentException("a Text Request cannot have both F and C set");
        }
        data = PduChecks.dataSegment(data);
    }

    @Override
    public Opcode opcode() {
        return Opcode.TEXT_REQUEST;
    }

    @Override
    public TextRequest withData(MemorySegment data) {
        return new TextRequest(immediate, finalFlag, continueFlag, lun, initiatorTaskTag, targetTransferTag, cmdSN,
                expStatSN, data);
    }

    public TextRequest withCmdSN(int cmdSN, int expStatSN) {
        return new TextRequest(immediate, finalFlag, continueFlag, lun, initiatorTaskTag, targetTransferTag, cmdSN,
                expStatSN, data);
    }
}
