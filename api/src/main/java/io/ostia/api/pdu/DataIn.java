package io.ostia.api.pdu;

import java.lang.foreign.MemorySegment;

/**
 * SCSI Data-In (RFC 7143 §11.7): read data at {@code bufferOffset}. With {@code statusPresent}
 * (S bit, only together with F) it also completes the command: {@code status}, {@code statSN} and
 * the residual are valid, and no SCSI Response follows.
 */
public record DataIn(boolean finalFlag, boolean acknowledge, boolean residualOverflow, boolean residualUnderflow,
        boolean statusPresent, int status, long lun, int initiatorTaskTag, int targetTransferTag, int statSN,
        int expCmdSN, int maxCmdSN, int dataSN, int bufferOffset, int residualCount, MemorySegment data)
        implements FullFeatureTargetPdu {

    public DataIn {
        PduChecks.unsigned8("Status", status);
        if (statusPresent && !finalFlag) {
            throw new IllegalArgumentException("a Data-In with the S bit must have the F bit");
        }
        data = PduChecks.dataSegment(data);
    }

    @Override
    public Opcode opcode() {
        return Opcode.DATA_IN;
    }

    @Override
    public DataIn withData(MemorySegment data) {
        return new DataIn(finalFlag, acknowledge, residualOverflow, residualUnderflow, statusPresent, status, lun,
                initiatorTaskTag, targetTransferTag, statSN, expCmdSN, maxCmdSN, dataSN, bufferOffset, residualCount,
                data);
    }

    public DataIn withStatSN(int statSN, int expCmdSN, int maxCmdSN) {
        return new DataIn(finalFlag, acknowledge, residualOverflow, residualUnderflow, statusPresent, status, lun,
                initiatorTaskTag, targetTransferTag, statSN, expCmdSN, maxCmdSN, dataSN, bufferOffset, residualCount,
                data);
    }
}
