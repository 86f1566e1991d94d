package io.ostia.api.pdu;

/**
 * Ready To Transfer, R2T (RFC 7143 §11.8): the target asks for {@code desiredDataTransferLength}
 * bytes of write data from {@code bufferOffset}, to be sent in Data-Out PDUs echoing
 * {@code targetTransferTag}.
 */
public record ReadyToTransfer(long lun, int initiatorTaskTag, int targetTransferTag, int statSN, int expCmdSN,
        int maxCmdSN, int r2tSN, int bufferOffset, int desiredDataTransferLength)
        implements HeaderOnlyPdu, FullFeatureTargetPdu {

    @Override
    public Opcode opcode() {
        return Opcode.R2T;
    }

    /** Always false: an R2T's StatSN is the next StatSN, not taken by it (RFC 7143 §11.8). */
    @Override
    public boolean statusPresent() {
        return false;
    }
}
