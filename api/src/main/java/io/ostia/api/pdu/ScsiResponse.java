package io.ostia.api.pdu;

import java.lang.foreign.MemorySegment;

/**
 * SCSI Response (RFC 7143 §11.4). {@code response} is the iSCSI service response (0 command
 * completed at target, 1 target failure, 0x80-0xff vendor specific); {@code status} the SCSI
 * status byte, valid when the command completed. The data segment holds SenseLength + sense data.
 */
public record ScsiResponse(boolean bidirectionalReadResidualOverflow, boolean bidirectionalReadResidualUnderflow,
        boolean residualOverflow, boolean residualUnderflow, int response, int status, int initiatorTaskTag,
        int snackTag, int statSN, int expCmdSN, int maxCmdSN, int expDataSN, int bidirectionalReadResidualCount,
        int residualCount, MemorySegment data) implements FullFeatureTargetPdu {

    /** Response: the command completed at the target (look at the status). */
    public static final int COMMAND_COMPLETED_AT_TARGET = 0x00;
    /** Response: the target failed the command. */
    public static final int TARGET_FAILURE = 0x01;
    /** SCSI status GOOD. */
    public static final int STATUS_GOOD = 0x00;
    /** SCSI status CHECK CONDITION: the data segment carries sense data. */
    public static final int STATUS_CHECK_CONDITION = 0x02;

    public ScsiResponse {
        PduChecks.unsigned8("Response", response);
        PduChecks.unsigned8("Status", status);
        data = PduChecks.dataSegment(data);
    }

    /** A GOOD response without residuals or sense data. */
    public static ScsiResponse good(int initiatorTaskTag, int statSN, int expCmdSN, int maxCmdSN, int expDataSN) {
        return new ScsiResponse(false, false, false, false, COMMAND_COMPLETED_AT_TARGET, STATUS_GOOD,
                initiatorTaskTag, 0, statSN, expCmdSN, maxCmdSN, expDataSN, 0, 0, NO_DATA);
    }

    @Override
    public Opcode opcode() {
        return Opcode.SCSI_RESPONSE;
    }

    @Override
    public ScsiResponse withData(MemorySegment data) {
        return new ScsiResponse(bidirectionalReadResidualOverflow, bidirectionalReadResidualUnderflow,
                residualOverflow, residualUnderflow, response, status, initiatorTaskTag, snackTag, statSN, expCmdSN,
                maxCmdSN, expDataSN, bidirectionalReadResidualCount, residualCount, data);
    }

    public ScsiResponse withStatSN(int statSN, int expCmdSN, int maxCmdSN) {
        return new ScsiResponse(bidirectionalReadResidualOverflow, bidirectionalReadResidualUnderflow,
                residualOverflow, residualUnderflow, response, status, initiatorTaskTag, snackTag, statSN, expCmdSN,
                maxCmdSN, expDataSN, bidirectionalReadResidualCount, residualCount, data);
    }
}
