package io.ostia.api;

import java.io.IOException;

/** Base of every error Ostia reports: the message names what was wrong and where. */
public class IscsiException extends IOException {
    public IscsiException(String message) {
        super(message);
    }

    public IscsiException(String message, Throwable cause) {
        super(message, cause);
    }
}
