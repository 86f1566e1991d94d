package io.ostia.target.internal.scsi;

import io.ostia.api.scsi.AdditionalSense;
import io.ostia.api.scsi.ScsiStatus;
import io.ostia.api.scsi.SenseData;
import io.ostia.api.scsi.SenseKey;

/**
 * Ends a command with a status other than GOOD. Thrown inside command emulation, turned into a
 * SCSI response by {@link LogicalUnit#execute}; it never leaves the SCSI layer.
 */
public final class ScsiStatusException extends Exception {

    private final ScsiStatus status;
    private final SenseData sense;

    private ScsiStatusException(ScsiStatus status, SenseData sense) {
        super(sense == null ? status.name() : sense.toString(), null, false, false);
        this.status = status;
        this.sense = sense;
    }

    public static ScsiStatusException check(SenseData sense) {
        return new ScsiStatusException(ScsiStatus.CHECK_CONDITION, sense);
    }

    public static ScsiStatusException check(SenseKey key, AdditionalSense asc) {
        return check(SenseData.of(key, asc));
    }

    /** INVALID FIELD IN CDB pointing at {@code byteOffset} (and {@code bit}, or -1). */
    public static ScsiStatusException invalidCdb(int byteOffset, int bit) {
        return check(SenseData.illegalRequest(AdditionalSense.INVALID_FIELD_IN_CDB, true, byteOffset, bit));
    }

    /** INVALID FIELD IN PARAMETER LIST pointing at {@code byteOffset} (and {@code bit}, or -1). */
    public static ScsiStatusException invalidParameter(int byteOffset, int bit) {
        return check(SenseData.illegalRequest(AdditionalSense.INVALID_FIELD_IN_PARAMETER_LIST, false, byteOffset, bit));
    }

    public static ScsiStatusException illegal(AdditionalSense asc) {
        return check(SenseKey.ILLEGAL_REQUEST, asc);
    }

    public static ScsiStatusException lbaOutOfRange() {
        return illegal(AdditionalSense.LBA_OUT_OF_RANGE);
    }

    public static ScsiStatusException reservationConflict() {
        return new ScsiStatusException(ScsiStatus.RESERVATION_CONFLICT, null);
    }

    public ScsiStatus status() {
        return status;
    }

    /** The sense data, or null for statuses that carry none. */
    public SenseData sense() {
        return sense;
    }
}
