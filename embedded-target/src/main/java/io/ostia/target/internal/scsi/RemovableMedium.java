package io.ostia.target.internal.scsi;

import io.ostia.api.scsi.AdditionalSense;
import io.ostia.api.scsi.SenseKey;

import java.util.HashSet;
import java.util.Set;

/**
 * The medium of a logical unit that reports it removable (INQUIRY RMB): START STOP UNIT loads
 * and ejects it (SBC-3 §5.25), PREVENT ALLOW MEDIUM REMOVAL holds it per I_T nexus (SPC-4
 * §6.15), and a nexus's prevention ends with the nexus or a reset. Ejecting only hides the
 * blocks: they are there again when the medium is loaded. A unit that is not removable keeps its
 * medium and takes both commands as no-ops. Thread-safe.
 */
final class RemovableMedium {
    private static final AdditionalSense MEDIUM_NOT_PRESENT = new AdditionalSense(0x3a, 0x00);
    private static final AdditionalSense MEDIUM_REMOVAL_PREVENTED = new AdditionalSense(0x53, 0x02);

    private final boolean removable;
    private final Set<Nexus> preventing = new HashSet<>();
    private boolean present = true;

    RemovableMedium(boolean removable) {
        this.removable = removable;
    }

    boolean removable() {
        return removable;
    }

    /** Fails a command that needs the medium while it is ejected: NOT READY, MEDIUM NOT PRESENT. */
    synchronized void requirePresent() throws ScsiStatusException {
        if (!present) {
            throw ScsiStatusException.check(SenseKey.NOT_READY, MEDIUM_NOT_PRESENT);
        }
    }

    /** START STOP UNIT: LOEJ with START loads, without START ejects; neither while a nexus prevents it. */
    synchronized void startStop(byte[] cdb) throws ScsiStatusException {
        int powerCondition = (cdb[4] & 0xf0) >>> 4;
        boolean loadEject = (cdb[4] & 0x02) != 0;
        boolean start = (cdb[4] & 0x01) != 0;
        if (!removable || powerCondition != 0 || !loadEject) {
            return; // SBC-3: a power condition other than START_VALID ignores START and LOEJ
        }
        if (!preventing.isEmpty()) {
            // SBC-3 §5.25: while removal is prevented, neither eject nor load runs.
            throw ScsiStatusException.check(SenseKey.ILLEGAL_REQUEST, MEDIUM_REMOVAL_PREVENTED);
        }
        present = start;
    }

    /** PREVENT ALLOW MEDIUM REMOVAL: PREVENT 1 holds the medium for this nexus, 0 lets it go. */
    synchronized void preventAllow(byte[] cdb, Nexus nexus) throws ScsiStatusException {
        int prevent = cdb[4] & 0x03;
        if (prevent > 1) {
            throw ScsiStatusException.invalidCdb(4, 1); // obsolete changer values
        }
        if (prevent == 1 && removable) {
            preventing.add(nexus);
        } else {
            preventing.remove(nexus);
        }
    }

    synchronized void nexusLost(Nexus nexus) {
        preventing.remove(nexus);
    }

    /** A LUN or target reset ends every prevention (SPC-4 §6.15). */
    synchronized void reset() {
        preventing.clear();
    }
}
