package io.ostia.target.internal.iscsi;

import io.ostia.api.pdu.SerialNumbers;
import io.ostia.target.internal.scsi.Nexus;

/**
 * An iSCSI session on the target: one I_T nexus, its command numbering window and the
 * connection that carries it (sessions have one connection: MaxConnections is 1).
 */
final class TargetSession {

    enum Admission { ACCEPT, HOLD, DROP }

    private final TargetNode node;
    private final String initiatorName;
    private final long isid;
    private final int tsih;
    private final Nexus nexus;
    private final int window;
    private volatile IscsiConnection connection;
    private int expCmdSN;

    TargetSession(TargetNode node, String initiatorName, long isid, int tsih, int firstCmdSN, int window) {
        this.node = node;
        this.initiatorName = initiatorName;
        this.isid = isid;
        this.tsih = tsih;
        this.window = window;
        this.expCmdSN = firstCmdSN;
        this.nexus = node == null ? null : new Nexus(initiatorName, isid, node.name(), TargetServer.TPGT);
    }

    /** The target node, or null for a discovery session. */
    TargetNode node() {
        return node;
    }

    boolean discovery() {
        return node == null;
    }

    int tsih() {
        return tsih;
    }

    Nexus nexus() {
        return nexus;
    }

    IscsiConnection connection() {
        return connection;
    }

    void attach(IscsiConnection connection) {
        this.connection = connection;
    }

    /** The key sessions are reinstated by: same initiator port on the same target. */
    String reinstatementKey() {
        return TargetServer.sessionKey(initiatorName, isid, node == null ? "" : node.name());
    }

    synchronized int expCmdSN() {
        return expCmdSN;
    }

    synchronized int maxCmdSN() {
        return expCmdSN + window - 1;
    }

    /**
     * Decides what to do with a non-immediate PDU numbered {@code cmdSN} (RFC 7143 §4.2.2.1): take
     * it now (and advance ExpCmdSN), hold it until the gap before it fills, or drop it silently
     * because it lies outside [ExpCmdSN, MaxCmdSN].
     */
    synchronized Admission admit(int cmdSN) {
        if (cmdSN == expCmdSN) {
            expCmdSN++;
            return Admission.ACCEPT;
        }
        return SerialNumbers.inWindow(cmdSN, expCmdSN, expCmdSN + window - 1) ? Admission.HOLD : Admission.DROP;
    }

    /** Whether {@code refCmdSN} has not been received yet but lies in the window. */
    synchronized boolean notYetReceived(int refCmdSN) {
        return SerialNumbers.inWindow(refCmdSN, expCmdSN, expCmdSN + window - 1);
    }

    @Override
    public String toString() {
        return (node == null ? "discovery" : node.name()) + " session TSIH " + tsih + " of " + initiatorName
                + String.format(" ISID %012x", isid);
    }
}
