package io.ostia.api.text;

import java.io.IOException;

/** Text data that breaks the key=value format of RFC 7143 §6.1; {@link #key()} names the key when known. */
public final class TextFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    private final String key;

    public TextFormatException(String key, String message) {
        super(message);
        this.key = key;
    }

    /** The key whose pair was malformed, or {@code null} when no key could be read. */
    public String key() {
        return key;
    }
}
