package io.ostia.api.pdu;

import java.util.Optional;

/** The Status-Class / Status-Detail pairs of a Login Response (RFC 7143 §11.13.5). */
public enum LoginStatus {
    SUCCESS(0x00, 0x00),
    TARGET_MOVED_TEMPORARILY(0x01, 0x01),
    TARGET_MOVED_PERMANENTLY(0x01, 0x02),
    INITIATOR_ERROR(0x02, 0x00),
    AUTHENTICATION_FAILURE(0x02, 0x01),
    AUTHORIZATION_FAILURE(0x02, 0x02),
    NOT_FOUND(0x02, 0x03),
    TARGET_REMOVED(0x02, 0x04),
    UNSUPPORTED_VERSION(0x02, 0x05),
    TOO_MANY_CONNECTIONS(0x02, 0x06),
    MISSING_PARAMETER(0x02, 0x07),
    CANNOT_INCLUDE_IN_SESSION(0x02, 0x08),
    SESSION_TYPE_NOT_SUPPORTED(0x02, 0x09),
    SESSION_DOES_NOT_EXIST(0x02, 0x0a),
    INVALID_DURING_LOGIN(0x02, 0x0b),
    TARGET_ERROR(0x03, 0x00),
    SERVICE_UNAVAILABLE(0x03, 0x01),
    OUT_OF_RESOURCES(0x03, 0x02);

    /** Status-Class 0: the login step succeeded. */
    public static final int CLASS_SUCCESS = 0;
    /** Status-Class 1: redirection, the TargetAddress key says where to go. */
    public static final int CLASS_REDIRECTION = 1;
    /** Status-Class 2: the initiator erred; retrying the same request will not help. */
    public static final int CLASS_INITIATOR_ERROR = 2;
    /** Status-Class 3: the target erred; a later retry may succeed. */
    public static final int CLASS_TARGET_ERROR = 3;

    private static final LoginStatus[] VALUES = values();
    private final int statusClass;
    private final int statusDetail;

    LoginStatus(int statusClass, int statusDetail) {
        this.statusClass = statusClass;
        this.statusDetail = statusDetail;
    }

    public int statusClass() {
        return statusClass;
    }

    public int statusDetail() {
        return statusDetail;
    }

    /** The named status for a class/detail pair; empty for pairs RFC 7143 does not name. */
    public static Optional<LoginStatus> of(int statusClass, int statusDetail) {
        for (LoginStatus status : VALUES) {
            if (status.statusClass == statusClass && status.statusDetail == statusDetail) {
                return Optional.of(status);
            }
        }
        return Optional.empty();
    }
}
