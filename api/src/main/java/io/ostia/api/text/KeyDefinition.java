package io.ostia.api.text;

import io.ostia.api.pdu.Side;
import java.util.List;
import java.util.Objects;

/**
 * One text key and its negotiation rule, as RFC 7143 §13 (and RFC 7145 §6 for iSER) define it.
 *
 * @param name the key name
 * @param kind how a value is chosen
 * @param use when the key may be sent
 * @param senders who may send it
 * @param scope whether the result holds for the session or one connection
 * @param defaultValue the value when the key is not negotiated, {@code null} for keys without one
 * @param min the smallest valid number, for numerical kinds
 * @param max the largest valid number, for numerical kinds
 * @param values the valid values for list and boolean kinds (empty: any)
 * @param maxValueLength the longest value in bytes
 * @param irrelevantInDiscovery whether a discovery session answers it with Irrelevant
 */
public record KeyDefinition(String name, Kind kind, Use use, Senders senders, Scope scope, String defaultValue,
        long min, long max, List<String> values, int maxValueLength, boolean irrelevantInDiscovery) {

    /** How the value is chosen (RFC 7143 §5.2, §6.2). */
    public enum Kind {
        /** Yes/No, result is the AND of both values: either side can turn it off. */
        BOOLEAN_AND,
        /** Yes/No, result is the OR of both values: either side can turn it on. */
        BOOLEAN_OR,
        /** A number in [min, max]; the result is the smaller of offer and answer. */
        NUMERICAL_MIN,
        /** A number in [min, max]; the result is the larger of offer and answer. */
        NUMERICAL_MAX,
        /** A number each side declares for itself, never answered (MaxRecvDataSegmentLength). */
        NUMERICAL_DECLARATIVE,
        /** A list in order of preference; the responder picks the first value it accepts. */
        LIST,
        /** A value stated by its sender and not answered (names, aliases, addresses). */
        DECLARATIVE,
        /** Part of an authentication exchange (CHAP_*): carried, but answered by the authentication method. */
        AUTHENTICATION,
        /** A request that the responder answers with data (SendTargets). */
        REQUEST
    }

    /** When a key may be sent (the "Use" of RFC 7143 §13). */
    public enum Use {
        /** Only in the Security Negotiation stage. */
        SECURITY_ONLY,
        /** Only during login (IO). */
        INITIALIZE_ONLY,
        /** Only on the leading connection's login (LO). */
        LEADING_ONLY,
        /** Only in the Full Feature Phase (FFPO). */
        FULL_FEATURE_ONLY,
        /** During login and in the Full Feature Phase. */
        ALL
    }

    /** Who may send the key. */
    public enum Senders {
        INITIATOR, TARGET, BOTH;

        public boolean allows(Side side) {
            return this == BOTH || (this == INITIATOR) == (side == Side.INITIATOR);
        }
    }

    /** Whether the result applies to the whole session or to one connection. */
    public enum Scope {
        SESSION, CONNECTION
    }

    public KeyDefinition {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(use, "use");
        Objects.requireNonNull(senders, "senders");
        Objects.requireNonNull(scope, "scope");
        values = List.copyOf(values);
    }

    public boolean isBoolean() {
        return kind == Kind.BOOLEAN_AND || kind == Kind.BOOLEAN_OR;
    }

    public boolean isNumerical() {
        return kind == Kind.NUMERICAL_MIN || kind == Kind.NUMERICAL_MAX || kind == Kind.NUMERICAL_DECLARATIVE;
    }

    /** Whether the peer answers an offer of this key (declarations and exchange keys are not answered). */
    public boolean isNegotiated() {
        return isBoolean() || kind == Kind.NUMERICAL_MIN || kind == Kind.NUMERICAL_MAX || kind == Kind.LIST;
    }

    /**
     * Whether {@code value} is a valid value for this key, as a single value (not a list offer).
     * MaxOutstandingUnexpectedPDUs has a hole in its range: 0 (no limit) or at least 2 (RFC 7145 §6.5).
     */
    public boolean accepts(String value) {
        if (isNumerical()) {
            var number = TextCodec.parseNumber(value);
            return number.isPresent() && number.getAsLong() >= min && number.getAsLong() <= max
                    && !(name.equals(Keys.MAX_OUTSTANDING_UNEXPECTED_PDUS) && number.getAsLong() == 1);
        }
        return values.isEmpty() || values.contains(value);
    }
}
