package io.ostia.api.pdu;

/** The login stages of the CSG / NSG fields (RFC 7143 §11.12.3); code 2 is reserved. */
public enum LoginStage implements CodedValue {
    SECURITY_NEGOTIATION(0),
    LOGIN_OPERATIONAL_NEGOTIATION(1),
    FULL_FEATURE_PHASE(3);

    private final int code;

    LoginStage(int code) {
        this.code = code;
    }

    @Override
    public int code() {
        return code;
    }
}
