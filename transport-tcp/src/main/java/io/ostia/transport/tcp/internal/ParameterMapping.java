package io.ostia.transport.tcp.internal;

import io.ostia.api.pdu.Side;
import io.ostia.api.text.NegotiatedParameters;
import java.util.Objects;

/** The one place that reads the session's {@link NegotiatedParameters} for the TCP data path. */
final class ParameterMapping {

    private ParameterMapping() {
    }

    static TcpParameters of(NegotiatedParameters negotiated) {
        Objects.requireNonNull(negotiated, "negotiated parameters");
        if (negotiated.rdmaExtensions()) {
            throw new IllegalArgumentException("RDMAExtensions=Yes was negotiated, but this is the TCP transport");
        }
        return new TcpParameters(negotiated.headerDigest(), negotiated.dataDigest(),
                negotiated.maxRecvDataSegmentLength(Side.INITIATOR), negotiated.maxSendDataSegmentLength(Side.INITIATOR),
                negotiated.firstBurstLength(), negotiated.maxBurstLength(), negotiated.immediateData(),
                negotiated.initialR2T(), negotiated.maxOutstandingR2T());
    }
}
