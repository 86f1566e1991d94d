package io.ostia.api.auth;

import java.io.IOException;

/**
 * A CHAP exchange that fails: a wrong response, an unknown name, no common algorithm, a
 * reflected challenge, or a malformed CHAP key. The login fails with an authentication error.
 */
public final class AuthenticationException extends IOException {
    private static final long serialVersionUID = 1L;

    public AuthenticationException(String message) {
        super(message);
    }

    public AuthenticationException(String message, Throwable cause) {
        super(message, cause);
    }
}
