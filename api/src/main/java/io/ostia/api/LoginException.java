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

    public LoginException(String message, Throwable cause) {
        super(message, cause);
        this.statusClass = -1;
        this.statusDetail = -1;
    }

    /** The target's Status-Class, or -1 when the failure was detected by the initiator. */
    public int statusClass() {
        return statusClass;
    }

    public int statusDetail() {
        return statusDetail;
    }

    /** RFC 7143's name for a login status, with its codes. */
    public static String describe(int statusClass, int statusDetail) {
        String text = io.ostia.api.pdu.LoginStatus.of(statusClass, statusDetail)
                .map(s -> s.name().toLowerCase(java.util.Locale.ROOT).replace('_', ' '))
                .orElse("status");
        return String.format("%s (class 0x%02x detail 0x%02x)", text, statusClass, statusDetail);
    }
}
