package io.ostia.api.pdu;

import java.lang.foreign.MemorySegment;

/**
 * SCSI Data-Out (RFC 7143 §11.7): write data, solicited by an R2T ({@code targetTransferTag}
 * echoes it) or unsolicited ({@code targetTransferTag} 0xffffffff).
 */
public record DataOut(boolean finalFlag, long lun, int initiatorTaskTag, int targetTransferTag, int expStatSN,
        int dataSN, int bufferOffset, MemorySegment data) implements Pdu {

    public DataOut {
        data = PduChecks.dataSegment(data);
    }

    @Override
    public Opcode opcode() {
        return Opcode.DATA_OUT;
    }

    @Override
    public DataOut withData(MemorySegment data) {
        return new DataOut(finalFlag, lun, initiatorTaskTag, targetTransferTag, expStatSN, dataSN, bufferOffset, data);
    }
}
