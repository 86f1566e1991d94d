package io.ostia.api.pdu;

import java.lang.foreign.MemorySegment;

/** The PDUs whose opcode has no data segment: their DataSegmentLength is always 0. */
sealed interface HeaderOnlyPdu extends Pdu
        permits TaskManagementRequest, LogoutRequest, SnackRequest, TaskManagementResponse, LogoutResponse,
                ReadyToTransfer {

    @Override
    default MemorySegment data() {
        return NO_DATA;
    }

    /** Accepts only a zero-length segment and returns this PDU. */
    @Override
    default Pdu withData(MemorySegment data) {
        PduChecks.noData(opcode(), data);
        return this;
    }
}
