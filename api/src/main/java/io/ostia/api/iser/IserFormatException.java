package io.ostia.api.iser;

import io.ostia.api.ProtocolException;

/**
 * An iSER message that breaks RFC 7145: the connection that received it cannot go on. {@link
 * #field()} names the field that was wrong, such as "Opcode" or "Length".
 */
public final class IserFormatException extends ProtocolException {
    private static final long serialVersionUID = 1L;

    /** @param field the RFC 7145 name of the field that was wrong */
    public IserFormatException(String field, String message) {
        super(field, message);
    }
}
