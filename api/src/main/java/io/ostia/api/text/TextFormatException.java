package io.ostia.api.text;

import io.ostia.api.ProtocolException;

/** Text data that breaks the key=value format of RFC 7143 §6.1; {@link #key()} names the key when known. */
public final class TextFormatException extends ProtocolException {
    private static final long serialVersionUID = 1L;

    public TextFormatException(String key, String message) {
        super(key, message);
    }

    /** The key whose pair was malformed, or {@code null} when no key could be read: the {@link #field()}. */
    public String key() {
        return field();
    }
}
