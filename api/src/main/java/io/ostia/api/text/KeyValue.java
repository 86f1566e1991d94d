package io.ostia.api.text;

import java.util.Objects;

/** One {@code key=value} pair. Construction checks the key syntax (RFC 7143 §6.1) but not the value's meaning. */
public record KeyValue(String key, String value) {

    /** Answer to a key the receiver does not know (RFC 7143 §6.2). */
    public static final String NOT_UNDERSTOOD = "NotUnderstood";
    /** Answer to a key whose negotiation does not apply, such as MaxBurstLength in a discovery session. */
    public static final String IRRELEVANT = "Irrelevant";
    /** Answer to an offer that is out of range or otherwise not acceptable. */
    public static final String REJECT = "Reject";

    public KeyValue {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(value, "value");
        String problem = TextCodec.keyProblem(key);
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
        if (value.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("the value of " + key + " contains a null byte");
        }
    }

    /** Whether the value is one of the answers NotUnderstood, Irrelevant or Reject. */
    public boolean isNegativeAnswer() {
        return value.equals(NOT_UNDERSTOOD) || value.equals(IRRELEVANT) || value.equals(REJECT);
    }

    @Override
    public String toString() {
        return key + "=" + value;
    }
}
