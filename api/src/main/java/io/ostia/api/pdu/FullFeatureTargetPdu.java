package io.ostia.api.pdu;

/**
 * A PDU a target sends in full-feature phase. Each carries StatSN, ExpCmdSN and MaxCmdSN (RFC
 * 7143 §4.2.2): ExpCmdSN and MaxCmdSN always advertise the target's command window, while StatSN
 * numbers a status only where {@link #statusPresent()} says so. A Login Response carries the
 * same three numbers but belongs to the login exchange, which reads them itself.
 */
public sealed interface FullFeatureTargetPdu extends Pdu
        permits ScsiResponse, DataIn, NopIn, ReadyToTransfer, TaskManagementResponse, LogoutResponse, TextResponse,
                AsyncMessage, Reject {

    int statSN();

    int expCmdSN();

    int maxCmdSN();

    /**
     * Whether {@link #statSN()} numbers a status this PDU delivers, so the initiator's ExpStatSN
     * moves past it. True unless the PDU says otherwise: a Data-In only with its S bit, an R2T and
     * a NOP-In never (their StatSN field holds the next StatSN, RFC 7143 §11.8, §11.19).
     */
    default boolean statusPresent() {
        return true;
    }
}
