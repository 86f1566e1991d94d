package io.ostia.api.scsi;

/**
 * Additional sense code and qualifier (ASC/ASCQ), with the SPC-4 text of the ones Ostia produces
 * or is likely to meet.
 */
public record AdditionalSense(int asc, int ascq) {

    public static final AdditionalSense NONE = new AdditionalSense(0x00, 0x00);
    public static final AdditionalSense LOGICAL_UNIT_NOT_READY = new AdditionalSense(0x04, 0x00);
    public static final AdditionalSense WRITE_ERROR = new AdditionalSense(0x0c, 0x00);
    public static final AdditionalSense UNRECOVERED_READ_ERROR = new AdditionalSense(0x11, 0x00);
    public static final AdditionalSense MISCOMPARE_DURING_VERIFY = new AdditionalSense(0x1d, 0x00);
    public static final AdditionalSense PARAMETER_LIST_LENGTH_ERROR = new AdditionalSense(0x1a, 0x00);
    public static final AdditionalSense INVALID_COMMAND_OPERATION_CODE = new AdditionalSense(0x20, 0x00);
    public static final AdditionalSense LBA_OUT_OF_RANGE = new AdditionalSense(0x21, 0x00);
    public static final AdditionalSense INVALID_FIELD_IN_CDB = new AdditionalSense(0x24, 0x00);
    public static final AdditionalSense LOGICAL_UNIT_NOT_SUPPORTED = new AdditionalSense(0x25, 0x00);
    public static final AdditionalSense INVALID_FIELD_IN_PARAMETER_LIST = new AdditionalSense(0x26, 0x00);
    public static final AdditionalSense WRITE_PROTECTED = new AdditionalSense(0x27, 0x00);
    public static final AdditionalSense POWER_ON_OR_RESET = new AdditionalSense(0x29, 0x00);
    public static final AdditionalSense PARAMETERS_CHANGED = new AdditionalSense(0x2a, 0x00);
    public static final AdditionalSense RESERVATIONS_PREEMPTED = new AdditionalSense(0x2a, 0x03);
    public static final AdditionalSense RESERVATIONS_RELEASED = new AdditionalSense(0x2a, 0x04);
    public static final AdditionalSense REGISTRATIONS_PREEMPTED = new AdditionalSense(0x2a, 0x05);
    public static final AdditionalSense CAPACITY_DATA_CHANGED = new AdditionalSense(0x2a, 0x09);
    public static final AdditionalSense COMMANDS_CLEARED_BY_ANOTHER_INITIATOR = new AdditionalSense(0x2f, 0x00);
    public static final AdditionalSense SAVING_PARAMETERS_NOT_SUPPORTED = new AdditionalSense(0x39, 0x00);
    public static final AdditionalSense REPORTED_LUNS_DATA_CHANGED = new AdditionalSense(0x3f, 0x0e);
    public static final AdditionalSense INTERNAL_TARGET_FAILURE = new AdditionalSense(0x44, 0x00);
    public static final AdditionalSense INVALID_MESSAGE_ERROR = new AdditionalSense(0x49, 0x00);
    public static final AdditionalSense COMMAND_PHASE_ERROR = new AdditionalSense(0x4a, 0x00);
    public static final AdditionalSense DATA_PHASE_ERROR = new AdditionalSense(0x4b, 0x00);
    public static final AdditionalSense OVERLAPPED_COMMANDS_ATTEMPTED = new AdditionalSense(0x4e, 0x00);
    public static final AdditionalSense INITIATOR_RESPONSE_TIMEOUT = new AdditionalSense(0x4b, 0x06);

    public AdditionalSense {
        if ((asc & ~0xff) != 0 || (ascq & ~0xff) != 0) {
            throw new IllegalArgumentException("ASC/ASCQ are bytes: " + asc + "/" + ascq);
        }
    }

    /** The SPC-4 description, or the raw codes when this table does not know them. */
    public String description() {
        String text = switch ((asc << 8) | ascq) {
            case 0x0000 -> "no additional sense information";
            case 0x0400 -> "logical unit not ready, cause not reportable";
            case 0x0c00 -> "write error";
            case 0x1100 -> "unrecovered read error";
            case 0x1a00 -> "parameter list length error";
            case 0x1d00 -> "miscompare during verify operation";
            case 0x2000 -> "invalid command operation code";
            case 0x2100 -> "logical block address out of range";
            case 0x2400 -> "invalid field in CDB";
            case 0x2500 -> "logical unit not supported";
            case 0x2600 -> "invalid field in parameter list";
            case 0x2700 -> "write protected";
            case 0x2900 -> "power on, reset, or bus device reset occurred";
            case 0x2a00 -> "parameters changed";
            case 0x2a03 -> "reservations preempted";
            case 0x2a04 -> "reservations released";
            case 0x2a05 -> "registrations preempted";
            case 0x2a09 -> "capacity data has changed";
            case 0x2f00 -> "commands cleared by another initiator";
            case 0x3900 -> "saving parameters not supported";
            case 0x3f0e -> "reported LUNs data has changed";
            case 0x4400 -> "internal target failure";
            case 0x4900 -> "invalid message error";
            case 0x4a00 -> "command phase error";
            case 0x4b00 -> "data phase error";
            case 0x4b06 -> "initiator response timeout";
            case 0x4e00 -> "overlapped commands attempted";
            default -> null;
        };
        String codes = String.format("ASC 0x%02x ASCQ 0x%02x", asc, ascq);
        return text == null ? codes : text + " (" + codes + ")";
    }
}
