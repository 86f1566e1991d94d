package io.ostia.api.pdu;

/** The two ends of an iSCSI connection; every opcode is sent by exactly one of them. */
public enum Side {
    INITIATOR,
    TARGET;

    /** The other end. */
    public Side peer() {
        return this == INITIATOR ? TARGET : INITIATOR;
    }
}
