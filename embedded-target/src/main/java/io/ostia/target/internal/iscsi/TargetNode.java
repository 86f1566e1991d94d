package io.ostia.target.internal.iscsi;

import io.ostia.api.ChapCredentials;
import io.ostia.api.scsi.Luns;
import io.ostia.target.internal.scsi.LogicalUnit;

import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * One iSCSI target node: its name, LUNs and CHAP settings. Immutable after construction; the
 * logical units are owned (and closed) by the server that holds the node.
 */
public final class TargetNode {

    private final String name;
    private final String alias;
    private final Map<Integer, LogicalUnit> units;
    private final int[] lunNumbers;
    private final LogicalUnit[] byLun;
    private final Optional<ChapCredentials> chap;
    /** DefaultTime2Wait and DefaultTime2Retain offered at login, seconds. */
    private final int time2Wait;
    private final int time2Retain;

    public TargetNode(String name, String alias, Map<Integer, LogicalUnit> units, Optional<ChapCredentials> chap) {
        this(name, alias, units, chap, 0, 0);
    }

    public TargetNode(String name, String alias, Map<Integer, LogicalUnit> units, Optional<ChapCredentials> chap,
                      int time2Wait, int time2Retain) {
        this.time2Wait = time2Wait;
        this.time2Retain = time2Retain;
        this.name = name;
        this.alias = alias;
        this.units = new TreeMap<>(units);
        this.lunNumbers = this.units.keySet().stream().mapToInt(Integer::intValue).toArray();
        int max = lunNumbers.length == 0 ? 0 : lunNumbers[lunNumbers.length - 1];
        this.byLun = new LogicalUnit[max + 1];
        this.units.forEach((lun, unit) -> byLun[lun] = unit);
        this.chap = chap;
        // EXTENDED COPY reaches the node's own LUs only: a session of this node must not read or
        // write a LU that another node (with other CHAP credentials) serves.
        this.units.values().forEach(unit -> unit.useCopyTargets(this::copyTarget));
    }

    private LogicalUnit copyTarget(int designatorType, byte[] designator) {
        for (LogicalUnit unit : units.values()) {
            if (unit.identifiedBy(designatorType, designator)) {
                return unit;
            }
        }
        return null;
    }

    public String name() {
        return name;
    }

    public String alias() {
        return alias;
    }

    /** The LU for a LUN field of a PDU (flat or peripheral addressing), or null. */
    public LogicalUnit unit(long lunField) {
        int lun = lunNumber(lunField);
        return lun >= 0 && lun < byLun.length ? byLun[lun] : null;
    }

    /**
     * The LUN number of an 8-byte LUN field, or -1 unless it is exactly the single-level
     * peripheral or flat encoding of one (SAM-5 4.7) — anything else addresses no LU here.
     */
    static int lunNumber(long lunField) {
        try {
            int lun = Luns.decode(lunField);
            return Luns.encode(lun) == lunField ? lun : -1;
        } catch (IllegalArgumentException e) {
            return -1;
        }
    }

    public int[] lunNumbers() {
        return lunNumbers.clone();
    }

    int[] lunNumbersShared() {
        return lunNumbers;
    }

    public Iterable<LogicalUnit> units() {
        return units.values();
    }

    public int time2Wait() {
        return time2Wait;
    }

    public int time2Retain() {
        return time2Retain;
    }

    public Optional<ChapCredentials> chap() {
        return chap;
    }

    @Override
    public String toString() {
        return name + " LUNs " + Arrays.toString(lunNumbers);
    }
}
