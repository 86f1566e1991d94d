package io.ostia.target.internal.scsi;

import java.util.Locale;

/**
 * An I_T nexus: the initiator port (iSCSI name plus ISID) and the target port it talks to.
 * Persistent reservations and unit attentions are keyed by it.
 *
 * @param initiatorName the iSCSI initiator name
 * @param isid          the 48-bit initiator session ID
 * @param targetName    the iSCSI target name
 * @param tpgt          target portal group tag (also the relative target port identifier)
 */
public record Nexus(String initiatorName, long isid, String targetName, int tpgt) {

    /** The initiator port name, {@code name,i,0xISID}, as used in TransportIDs (SPC-4 7.6.4.6). */
    public String initiatorPortName() {
        return initiatorName + ",i,0x" + String.format(Locale.ROOT, "%012x", isid);
    }
}
