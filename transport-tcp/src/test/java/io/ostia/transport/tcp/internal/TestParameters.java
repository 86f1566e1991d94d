package io.ostia.transport.tcp.internal;

import io.ostia.api.text.NegotiatedParameters;
import java.util.Map;

/**
 * Works out the outcome of the test login from what was offered and what the target answered,
 * as RFC 7143 §13 says for each key: the session layer does this in production; the transport
 * tests need just these keys.
 */
final class TestParameters {

    private TestParameters() {
    }

    static NegotiatedParameters negotiated(TestInitiator.Offer offer, Map<String, String> answered) {
        NegotiatedParameters d = NegotiatedParameters.DEFAULTS;
        boolean headerDigest = "CRC32C".equals(answered.get("HeaderDigest"));
        boolean dataDigest = "CRC32C".equals(answered.get("DataDigest"));
        // ImmediateData is an AND, InitialR2T an OR; numbers the minimum of both offers.
        boolean immediateData = offer.immediateData() && yes(answered.getOrDefault("ImmediateData", "Yes"));
        boolean initialR2T = offer.initialR2T() || yes(answered.getOrDefault("InitialR2T", "Yes"));
        int maxBurst = Math.min(offer.maxBurstLength(), number(answered, "MaxBurstLength", 262144));
        int firstBurst = Math.min(Math.min(offer.firstBurstLength(), number(answered, "FirstBurstLength", 65536)),
                maxBurst);
        int outstanding = Math.min(offer.maxOutstandingR2T(), number(answered, "MaxOutstandingR2T", 1));
        int targetMrdsl = number(answered, "MaxRecvDataSegmentLength", 8192);
        return new NegotiatedParameters(headerDigest, dataDigest, offer.maxRecvDataSegmentLength(), targetMrdsl,
                maxBurst, firstBurst, initialR2T, immediateData, outstanding, d.dataPduInOrder(),
                d.dataSequenceInOrder(), 0, 0, 0, 1, false, d.targetRecvDataSegmentLength(),
                d.initiatorRecvDataSegmentLength(), d.initiatorMaxOutstandingUnexpectedPdus(),
                d.targetMaxOutstandingUnexpectedPdus(), d.iscsiProtocolLevel());
    }

    /** RFC 7143 defaults with the digests and unsolicited-data keys chosen. */
    static NegotiatedParameters defaultsWith(boolean headerDigest, boolean dataDigest, boolean immediateData,
            boolean initialR2T) {
        NegotiatedParameters d = NegotiatedParameters.DEFAULTS;
        return new NegotiatedParameters(headerDigest, dataDigest, d.initiatorMaxRecvDataSegmentLength(),
                d.targetMaxRecvDataSegmentLength(), d.maxBurstLength(), d.firstBurstLength(), initialR2T,
                immediateData, d.maxOutstandingR2T(), d.dataPduInOrder(), d.dataSequenceInOrder(),
                d.errorRecoveryLevel(), d.defaultTime2Wait(), d.defaultTime2Retain(), d.maxConnections(),
                d.rdmaExtensions(), d.targetRecvDataSegmentLength(), d.initiatorRecvDataSegmentLength(),
                d.initiatorMaxOutstandingUnexpectedPdus(), d.targetMaxOutstandingUnexpectedPdus(),
                d.iscsiProtocolLevel());
    }

    private static boolean yes(String value) {
        return "Yes".equals(value);
    }

    private static int number(Map<String, String> answered, String key, int defaultValue) {
        String value = answered.get(key);
        return value == null ? defaultValue : Integer.parseInt(value);
    }
}
