package io.ostia.api.scsi;

/** Sense keys (SPC-4 table 48). */
public enum SenseKey {
    NO_SENSE, RECOVERED_ERROR, NOT_READY, MEDIUM_ERROR, HARDWARE_ERROR, ILLEGAL_REQUEST,
    UNIT_ATTENTION, DATA_PROTECT, BLANK_CHECK, VENDOR_SPECIFIC, COPY_ABORTED, ABORTED_COMMAND,
    RESERVED_C, VOLUME_OVERFLOW, MISCOMPARE, COMPLETED;

    public int code() {
        return ordinal();
    }

    public static SenseKey of(int code) {
        return values()[code & 0x0f];
    }
}
