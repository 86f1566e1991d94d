package io.ostia.api.pdu;

/** The opcodes of RFC 7143 §11.2.1.2, with the side that sends each. */
public enum Opcode {
    NOP_OUT(0x00, Side.INITIATOR, true),
    SCSI_COMMAND(0x01, Side.INITIATOR, true),
    TASK_MANAGEMENT_REQUEST(0x02, Side.INITIATOR, false),
    LOGIN_REQUEST(0x03, Side.INITIATOR, true),
    TEXT_REQUEST(0x04, Side.INITIATOR, true),
    DATA_OUT(0x05, Side.INITIATOR, true),
    LOGOUT_REQUEST(0x06, Side.INITIATOR, false),
    SNACK_REQUEST(0x10, Side.INITIATOR, false),
    NOP_IN(0x20, Side.TARGET, true),
    SCSI_RESPONSE(0x21, Side.TARGET, true),
    TASK_MANAGEMENT_RESPONSE(0x22, Side.TARGET, false),
    LOGIN_RESPONSE(0x23, Side.TARGET, true),
    TEXT_RESPONSE(0x24, Side.TARGET, true),
    DATA_IN(0x25, Side.TARGET, true),
    LOGOUT_RESPONSE(0x26, Side.TARGET, false),
    R2T(0x31, Side.TARGET, false),
    ASYNC_MESSAGE(0x32, Side.TARGET, true),
    REJECT(0x3f, Side.TARGET, true);

    private static final Opcode[] BY_CODE = new Opcode[64];

    static {
        for (Opcode opcode : values()) {
            BY_CODE[opcode.code] = opcode;
        }
    }

    private final int code;
    private final Side sender;
    private final boolean carriesData;

    Opcode(int code, Side sender, boolean carriesData) {
        this.code = code;
        this.sender = sender;
        this.carriesData = carriesData;
    }

    /** The six-bit opcode value of BHS byte 0. */
    public int code() {
        return code;
    }

    /** The side that sends PDUs with this opcode. */
    public Side sender() {
        return sender;
    }

    /** Whether RFC 7143 defines a data segment for this opcode; if not, DataSegmentLength must be 0. */
    public boolean carriesData() {
        return carriesData;
    }

    /**
     * The opcode with this six-bit value, or {@code null} when RFC 7143 reserves it (including the
     * vendor-specific codes 0x1c-0x1e and 0x3c-0x3e, which Ostia does not speak).
     */
    public static Opcode fromCode(int code) {
        return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    }
}
