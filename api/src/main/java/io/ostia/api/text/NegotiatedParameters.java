package io.ostia.api.text;

import io.ostia.api.pdu.Side;

/**
 * The operational parameters a login settled on, typed; RFC 7143 defaults for keys not negotiated.
 *
 * @param headerDigest CRC32C header digests
 * @param dataDigest CRC32C data digests
 * @param initiatorMaxRecvDataSegmentLength what the initiator declared it receives (the target's send limit)
 * @param targetMaxRecvDataSegmentLength what the target declared it receives (the initiator's send limit)
 * @param maxBurstLength largest solicited (R2T) burst or Data-In sequence
 * @param firstBurstLength largest unsolicited burst (immediate plus unsolicited Data-Out)
 * @param initialR2T whether unsolicited Data-Out PDUs are forbidden
 * @param immediateData whether a SCSI Command may carry write data
 * @param maxOutstandingR2T R2Ts a task may have outstanding
 * @param dataPduInOrder Data PDUs in increasing buffer offset within a sequence
 * @param dataSequenceInOrder sequences in increasing buffer offset
 * @param errorRecoveryLevel 0, 1 or 2
 * @param defaultTime2Wait seconds to wait before reconnecting after a logout or drop
 * @param defaultTime2Retain seconds the target keeps task state after that
 * @param maxConnections connections per session
 * @param rdmaExtensions iSER is in use (RFC 7145)
 * @param targetRecvDataSegmentLength iSER: what the target receives in one iSCSI control-type PDU
 * @param initiatorRecvDataSegmentLength iSER: what the initiator receives in one iSCSI control-type PDU
 * @param initiatorMaxOutstandingUnexpectedPdus iSER: the unexpected PDUs the initiator declared it can
 *        take outstanding (what the target may send unasked), 0 for no limit
 * @param targetMaxOutstandingUnexpectedPdus iSER: the unexpected PDUs the target declared it can take
 *        outstanding (what the initiator may send unasked: immediate commands, NOP-Outs), 0 for no limit
 * @param iscsiProtocolLevel 1 for RFC 7143, 2 for RFC 7144 features
 */
public record NegotiatedParameters(boolean headerDigest, boolean dataDigest, int initiatorMaxRecvDataSegmentLength,
        int targetMaxRecvDataSegmentLength, int maxBurstLength, int firstBurstLength, boolean initialR2T,
        boolean immediateData, int maxOutstandingR2T, boolean dataPduInOrder, boolean dataSequenceInOrder,
        int errorRecoveryLevel, int defaultTime2Wait, int defaultTime2Retain, int maxConnections,
        boolean rdmaExtensions, int targetRecvDataSegmentLength, int initiatorRecvDataSegmentLength,
        long initiatorMaxOutstandingUnexpectedPdus, long targetMaxOutstandingUnexpectedPdus,
        int iscsiProtocolLevel) {

    /** Every parameter at its RFC 7143 / RFC 7145 default. */
    public static final NegotiatedParameters DEFAULTS = new NegotiatedParameters(false, false, 8192, 8192, 262144,
            65536, true, true, 1, true, true, 0, 2, 20, 1, false, 8192, 8192, 0, 0, 1);

    /** The largest data segment this side may send: the peer's declared MaxRecvDataSegmentLength. */
    public int maxSendDataSegmentLength(Side localSide) {
        return localSide == Side.INITIATOR ? targetMaxRecvDataSegmentLength
                : initiatorMaxRecvDataSegmentLength;
    }

    /** The largest data segment this side accepts: its own declared MaxRecvDataSegmentLength. */
    public int maxRecvDataSegmentLength(Side localSide) {
        return localSide == Side.INITIATOR ? initiatorMaxRecvDataSegmentLength
                : targetMaxRecvDataSegmentLength;
    }
}
