package io.ostia.target.internal.scsi;

/**
 * The logical units an EXTENDED COPY may name as copy source or destination: the copy manager of
 * a unit resolves a target descriptor's designator through it. The target server gives every
 * unit one over all of its logical units.
 */
@FunctionalInterface
public interface CopyTargets {

    /**
     * The unit that reports {@code designator} (of {@code designatorType}, SPC-4 table 459) for
     * itself in its Device Identification VPD page, or null if no unit does.
     */
    LogicalUnit find(int designatorType, byte[] designator);
}
