package io.ostia.api.pdu;

import java.nio.ByteBuffer;

/**
 * A SCSI Response (RFC 7143 §11.4) without a data segment in a reusable holder rather than in
 * a new {@link ScsiResponse} record: a connection owns one. An initiator's {@link PduDecoder}
 * fills it ({@link PduDecoder#setScsiResponseHolder}), a target {@linkplain #set sets} it and
 * {@link PduEncoder#encodeHeader(ScsiResponseHolder, java.nio.ByteBuffer) encodes} it, so the
 * hot path answers and decodes its answers without an object each. Its accessors are the
 * record's. Only a response without a data segment is held: one with sense data (CHECK
 * CONDITION) is a record, as ever.
 *
 * <p><b>Lifetime:</b> the fields are those of the PDU last decoded into it and change with the
 * next one. Whoever is handed a holder reads it during that call and never keeps it; what must
 * outlive the call is copied, or taken as {@link #toRecord()}. Not thread-safe: the connection's
 * receiving thread owns it.
 */
public final class ScsiResponseHolder {

    private boolean bidirectionalReadResidualOverflow;
    private boolean bidirectionalReadResidualUnderflow;
    private boolean residualOverflow;
    private boolean residualUnderflow;
    private int response;
    private int status;
    private int initiatorTaskTag;
    private int snackTag;
    private int statSN;
    private int expCmdSN;
    private int maxCmdSN;
    private int expDataSN;
    private int bidirectionalReadResidualCount;
    private int residualCount;

    /** Fills the fields from a SCSI Response BHS at 0 of {@code bhs}, as the record's decoder does. */
    void fill(ByteBuffer bhs) {
        int flags = bhs.get(1) & 0xff;
        bidirectionalReadResidualOverflow = (flags & 0x10) != 0;
        bidirectionalReadResidualUnderflow = (flags & 0x08) != 0;
        residualOverflow = (flags & 0x04) != 0;
        residualUnderflow = (flags & 0x02) != 0;
        response = bhs.get(2) & 0xff;
        status = bhs.get(3) & 0xff;
        initiatorTaskTag = bhs.getInt(16);
        snackTag = bhs.getInt(20);
        statSN = bhs.getInt(24);
        expCmdSN = bhs.getInt(28);
        maxCmdSN = bhs.getInt(32);
        expDataSN = bhs.getInt(36);
        bidirectionalReadResidualCount = bhs.getInt(40);
        residualCount = bhs.getInt(44);
    }

    /**
     * Sets every field, as the record's constructor takes them (no data segment).
     *
     * @return this holder
     * @throws IllegalArgumentException if {@code response} or {@code status} is not a byte
     */
    public ScsiResponseHolder set(boolean bidirectionalReadResidualOverflow, boolean bidirectionalReadResidualUnderflow,
            boolean residualOverflow, boolean residualUnderflow, int response, int status, int initiatorTaskTag,
            int snackTag, int statSN, int expCmdSN, int maxCmdSN, int expDataSN, int bidirectionalReadResidualCount,
            int residualCount) {
        this.response = PduChecks.unsigned8("Response", response);
        this.status = PduChecks.unsigned8("Status", status);
        this.bidirectionalReadResidualOverflow = bidirectionalReadResidualOverflow;
        this.bidirectionalReadResidualUnderflow = bidirectionalReadResidualUnderflow;
        this.residualOverflow = residualOverflow;
        this.residualUnderflow = residualUnderflow;
        this.initiatorTaskTag = initiatorTaskTag;
        this.snackTag = snackTag;
        this.statSN = statSN;
        this.expCmdSN = expCmdSN;
        this.maxCmdSN = maxCmdSN;
        this.expDataSN = expDataSN;
        this.bidirectionalReadResidualCount = bidirectionalReadResidualCount;
        this.residualCount = residualCount;
        return this;
    }

    /** The record of the same fields, for whatever must outlive the holder's call. */
    public ScsiResponse toRecord() {
        return new ScsiResponse(bidirectionalReadResidualOverflow, bidirectionalReadResidualUnderflow, residualOverflow,
                residualUnderflow, response, status, initiatorTaskTag, snackTag, statSN, expCmdSN, maxCmdSN, expDataSN,
                bidirectionalReadResidualCount, residualCount, Pdu.NO_DATA);
    }

    public boolean bidirectionalReadResidualOverflow() {
        return bidirectionalReadResidualOverflow;
    }

    public boolean bidirectionalReadResidualUnderflow() {
        return bidirectionalReadResidualUnderflow;
    }

    public boolean residualOverflow() {
        return residualOverflow;
    }

    public boolean residualUnderflow() {
        return residualUnderflow;
    }

    public int response() {
        return response;
    }

    public int status() {
        return status;
    }

    public int initiatorTaskTag() {
        return initiatorTaskTag;
    }

    public int snackTag() {
        return snackTag;
    }

    public int statSN() {
        return statSN;
    }

    public int expCmdSN() {
        return expCmdSN;
    }

    public int maxCmdSN() {
        return maxCmdSN;
    }

    public int expDataSN() {
        return expDataSN;
    }

    public int bidirectionalReadResidualCount() {
        return bidirectionalReadResidualCount;
    }

    public int residualCount() {
        return residualCount;
    }

    @Override
    public String toString() {
        return "held " + toRecord();
    }
}
