package io.ostia.target.internal.iscsi;

/**
 * The operational values a login settled that the full feature phase acts on (RFC 7143 §13).
 *
 * @param initiatorMaxRecvDataSegmentLength the largest data segment the initiator takes (our Data-In size)
 * @param targetMaxRecvDataSegmentLength    the largest data segment we take
 */
public record SessionParameters(int initiatorMaxRecvDataSegmentLength, int targetMaxRecvDataSegmentLength,
                                int maxBurstLength, int firstBurstLength, boolean immediateData,
                                boolean initialR2T, int maxOutstandingR2T, boolean headerDigest,
                                boolean dataDigest, int defaultTime2Wait, int defaultTime2Retain) {

    /** RFC 7143 defaults, used until (and where) login negotiates otherwise. */
    public static final SessionParameters DEFAULTS = new SessionParameters(8192, 8192, 262144, 65536, true, true, 1,
            false, false, 2, 20);

    /** These parameters with the initiator's receive limit re-declared (RFC 7143 §13.12). */
    public SessionParameters withInitiatorMaxRecvDataSegmentLength(int bytes) {
        return new SessionParameters(bytes, targetMaxRecvDataSegmentLength, maxBurstLength, firstBurstLength,
                immediateData, initialR2T, maxOutstandingR2T, headerDigest, dataDigest, defaultTime2Wait,
                defaultTime2Retain);
    }
}
