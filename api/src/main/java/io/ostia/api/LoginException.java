package io.ostia.api;

/**
 * Login failed: the target answered with a non-success status (RFC 7143 11.13.5), or the
 * negotiation could not agree.
 */
public class LoginException extends IscsiException {
    private final int statusClass;
    private final int statusDetail;

    /** A login the target refused; the message should include {@link #describe(int, int)}. */
    public LoginException(String message, int statusClass, int statusDetail) {
        super(message);
        this.statusClass = statusClass;
        this.statusDetail = statusDetail;
    }

    /** A login that failed on our side (negotiation, authentication of the target). */
    public LoginException(String message) {
        this(message, -1, -1);
    }

    /** The target's Status-Class, or -1 when the failure was detected by the initiator. */
    public int statusClass() {
        return statusClass;
    }

    public int statusDetail() {
        return statusDetail;
    }

    /** RFC 7143's text for a login status. */
    public static String describe(int statusClass, int statusDetail) {
        String text = switch (statusClass << 8 | statusDetail) {
            case 0x0101 -> "target moved temporarily";
            case 0x0102 -> "target moved permanently";
            case 0x0200 -> "initiator error";
            case 0x0201 -> "authentication failure";
            case 0x0202 -> "authorization failure";
            case 0x0203 -> "target not found";
            case 0x0204 -> "target removed";
            case 0x0205 -> "unsupported version";
            case 0x0206 -> "too many connections";
            case 0x0207 -> "missing parameter";
            case 0x0208 -> "can't include in session";
            case 0x0209 -> "session type not supported";
            case 0x020a -> "session does not exist";
            case 0x020b -> "invalid request during login";
            case 0x0300 -> "target error";
            case 0x0301 -> "service unavailable";
            case 0x0302 -> "out of resources";
            default -> "status";
        };
        return String.format("%s (class 0x%02x detail 0x%02x)", text, statusClass, statusDetail);
    }
}
