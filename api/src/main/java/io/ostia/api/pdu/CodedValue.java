package io.ostia.api.pdu;

/** An enum constant with a numeric wire value; {@link #find} maps the value back. */
interface CodedValue {
    int code();

    /** The constant whose code is {@code code}; {@code values} is the enum's cached values(). */
    static <E extends CodedValue> E find(E[] values, int code, String field) throws PduFormatException {
        for (E value : values) {
            if (value.code() == code) {
                return value;
            }
        }
        throw new PduFormatException(field, field + " " + code + " (0x" + Integer.toHexString(code)
                + ") is not defined by RFC 7143");
    }
}
