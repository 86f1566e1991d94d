package io.ostia.api;

/**
 * CHAP failed: the target rejected our credentials (status 0x0201), or in mutual CHAP the
 * target's answer to our challenge was wrong.
 */
public class AuthenticationException extends LoginException {
    public AuthenticationException(String message, int statusClass, int statusDetail) {
        super(message, statusClass, statusDetail);
    }

    public AuthenticationException(String message) {
        super(message);
    }

    public AuthenticationException(String message, Throwable cause) {
        super(message, cause);
    }
}
