package io.ostia.api.pdu;

/** An enum constant with a numeric wire value; {@link #find} maps the value back. */
interface CodedValue {
    int code();

    /** Each enum's constants, fetched once: {@code getEnumConstants()} copies the array on every call. */
    ClassValue<CodedValue[]> CONSTANTS = new ClassValue<>() {
        @Override
        protected CodedValue[] computeValue(Class<?> type) {
            return (CodedValue[]) type.getEnumConstants();
        }
    };

    /** The constant of enum {@code type} whose code is {@code code}. */
    static <E extends Enum<E> & CodedValue> E find(Class<E> type, int code, String field) throws PduFormatException {
        for (CodedValue value : CONSTANTS.get(type)) {
            if (value.code() == code) {
                return type.cast(value);
            }
        }
        throw new PduFormatException(field, field + " " + code + " (0x" + Integer.toHexString(code)
                + ") is not defined by RFC 7143");
    }
}
