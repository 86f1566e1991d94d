package io.ostia.transport.tcp.internal;

import io.ostia.api.text.NegotiatedParameters;

/**
 * The negotiated values the TCP transport acts on, taken from the session's parameters once per
 * {@code setParameters} so the data path reads plain fields.
 *
 * @param headerDigest                   CRC32C header digests in both directions
 * @param dataDigest                     CRC32C data digests in both directions
 * @param maxRecvDataSegmentLength       the largest data segment this initiator accepts
 * @param targetMaxRecvDataSegmentLength the largest data segment the target accepts: bounds
 *                                       immediate data and every Data-Out
 * @param firstBurstLength               unsolicited data per command (immediate + Data-Out)
 * @param maxBurstLength                 the largest R2T a target may send
 * @param immediateData                  a write command may carry data
 * @param initialR2T                     no unsolicited Data-Out before the first R2T
 * @param maxOutstandingR2T              R2Ts a target may have outstanding per task
 */
record TcpParameters(boolean headerDigest, boolean dataDigest, int maxRecvDataSegmentLength,
        int targetMaxRecvDataSegmentLength, int firstBurstLength, int maxBurstLength, boolean immediateData,
        boolean initialR2T, int maxOutstandingR2T) {

    /**
     * What holds during login: RFC 7143's defaults (NegotiatedParameters.DEFAULTS, which has no
     * digests), but no immediate data, as login PDUs carry no SCSI data.
     */
    static final TcpParameters LOGIN = ParameterMapping.of(NegotiatedParameters.DEFAULTS).withoutImmediateData();

    private TcpParameters withoutImmediateData() {
        return new TcpParameters(headerDigest, dataDigest, maxRecvDataSegmentLength, targetMaxRecvDataSegmentLength,
                firstBurstLength, maxBurstLength, false, initialR2T, maxOutstandingR2T);
    }

    TcpParameters {
        positive("MaxRecvDataSegmentLength", maxRecvDataSegmentLength);
        positive("target MaxRecvDataSegmentLength", targetMaxRecvDataSegmentLength);
        positive("FirstBurstLength", firstBurstLength);
        positive("MaxBurstLength", maxBurstLength);
        positive("MaxOutstandingR2T", maxOutstandingR2T);
    }

    private static void positive(String key, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException(key + " " + value + " must be positive");
        }
    }
}
