package io.ostia.api.scsi;

/** SCSI status byte values (SAM-5). */
public enum ScsiStatus {
    GOOD(0x00),
    CHECK_CONDITION(0x02),
    CONDITION_MET(0x04),
    BUSY(0x08),
    RESERVATION_CONFLICT(0x18),
    TASK_SET_FULL(0x28),
    ACA_ACTIVE(0x30),
    TASK_ABORTED(0x40);

    private final int code;

    ScsiStatus(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** @throws IllegalArgumentException for a value SAM-5 does not define */
    public static ScsiStatus of(int code) {
        if ((code & 0xff) == GOOD.code) {
            return GOOD; // nearly every response: skip the copy values() makes
        }
        for (ScsiStatus s : values()) {
            if (s.code == (code & 0xff)) {
                return s;
            }
        }
        throw new IllegalArgumentException(String.format("unknown SCSI status 0x%02x", code & 0xff));
    }
}
