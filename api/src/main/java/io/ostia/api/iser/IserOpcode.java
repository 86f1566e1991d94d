package io.ostia.api.iser;

/** The iSER opcode: the high nibble of the first byte of every iSER message (RFC 7145 §9.2). */
public enum IserOpcode {
    /** An iSCSI control-type PDU follows the iSER header. */
    ISCSI_CONTROL(0x1),
    /** Hello (iWARP only; RFC 7145 makes it optional through iSERHelloRequired). */
    HELLO(0x2),
    /** The answer to a Hello. */
    HELLO_REPLY(0x3);

    private final int code;

    IserOpcode(int code) {
        this.code = code;
    }

    /** The four-bit opcode value. */
    public int code() {
        return code;
    }

    /** values() copies its array on every call; this is read once per message received. */
    private static final IserOpcode[] ALL = values();

    /** The opcode of the message whose first byte is {@code flags}. */
    public static IserOpcode of(byte flags) throws IserFormatException {
        int code = (flags & 0xf0) >>> 4;
        for (IserOpcode opcode : ALL) {
            if (opcode.code == code) {
                return opcode;
            }
        }
        throw new IserFormatException("Opcode", "unknown iSER opcode 0x" + Integer.toHexString(code));
    }
}
