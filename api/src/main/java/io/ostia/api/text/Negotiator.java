package io.ostia.api.text;

import io.ostia.api.pdu.LoginStage;
import io.ostia.api.pdu.Side;
import io.ostia.api.text.KeyDefinition.Kind;
import io.ostia.api.text.KeyDefinition.Use;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Text negotiation for one connection's login (and later Text exchanges), from either side.
 *
 * <p>Local settings say what this side wants: for a list key the acceptable values in order of
 * preference ({@code HeaderDigest=CRC32C,None}), for a boolean or numerical key its own value or
 * limit, for a declarative key what it declares. {@link #offer} and {@link #operationalOffers}
 * make this side's offers; {@link #respond} takes everything the peer sent, checks the answers to
 * this side's offers against each key's result function and answers the peer's own offers:
 * Reject for invalid or out-of-range values, NotUnderstood for unknown and X- keys, Irrelevant
 * where the session type makes a key meaningless. {@link #parameters()} gives the typed result.
 *
 * <p>RFC 7143 §6.2.2: an offer of {@code Yes} for an OR key or {@code No} for an AND key decides
 * the result by itself, so its answer is optional, and declarative keys are never answered. Such
 * an offer is settled when it is made (an answer, if one comes, is still checked); a target
 * leaves such offers of the initiator unanswered. An initiator still answers them,
 * since answering is always legal and some targets may wait for it.
 *
 * <p>CHAP keys are carried, not answered: {@link #peerValue} gives them to the authentication
 * code. SendTargets likewise. Not thread-safe.
 */
public final class Negotiator {
    private static final Set<String> REPEATABLE = Set.of(Keys.TARGET_ADDRESS, Keys.TARGET_NAME);

    private final Side localSide;
    private final boolean leadingConnection;
    private final Map<String, String> settings;
    private final Map<String, String> outstanding = new LinkedHashMap<>();
    private final Map<String, String> results = new LinkedHashMap<>();
    private final Map<String, String> localDeclarations = new LinkedHashMap<>();
    /** Declarations of this side the peer answered with Reject, Irrelevant or NotUnderstood. */
    private final Set<String> refusedDeclarations = new HashSet<>();
    private final Map<String, List<String>> peerValues = new LinkedHashMap<>();
    private final Set<String> settled = new HashSet<>();
    private boolean discovery;

    /**
     * @param localSide which side this negotiator speaks for
     * @param leadingConnection whether this is the session's first connection (LO keys allowed)
     * @param settings local values by key, in wire syntax; every key must be registered and valid
     * @throws IllegalArgumentException for an unknown key, an invalid value, or FirstBurstLength &gt;
     *     MaxBurstLength when both are set (when only one is, the negotiated result is checked instead)
     */
    public Negotiator(Side localSide, boolean leadingConnection, Map<String, String> settings) {
        this.localSide = localSide;
        this.leadingConnection = leadingConnection;
        this.settings = new LinkedHashMap<>(settings);
        settings.forEach(Negotiator::checkSetting);
        if (settings.containsKey(Keys.FIRST_BURST_LENGTH) && settings.containsKey(Keys.MAX_BURST_LENGTH)
                && number(settings, Keys.FIRST_BURST_LENGTH) > number(settings, Keys.MAX_BURST_LENGTH)) {
            throw new IllegalArgumentException("FirstBurstLength " + number(settings, Keys.FIRST_BURST_LENGTH)
                    + " exceeds MaxBurstLength " + number(settings, Keys.MAX_BURST_LENGTH));
        }
        discovery = Keys.DISCOVERY.equals(settings.get(Keys.SESSION_TYPE));
    }

    private static void checkSetting(String key, String value) {
        KeyDefinition definition = Keys.lookup(key)
                .orElseThrow(() -> new IllegalArgumentException("unknown key " + key + " in the local settings"));
        boolean valid = switch (definition.kind()) {
            case LIST -> Arrays.stream(value.split(",", -1)).allMatch(definition::accepts);
            default -> definition.accepts(value);
        };
        if (!valid) {
            throw new IllegalArgumentException("local setting " + key + "=" + value + " is not valid for "
                    + definition.kind() + (definition.isNumerical() ? " in " + definition.min() + ".."
                    + definition.max() : ""));
        }
    }

    public Side localSide() {
        return localSide;
    }

    /** Whether this is a discovery session (from the local SessionType, or the initiator's declaration). */
    public boolean discovery() {
        return discovery;
    }

    /**
     * Offers or declares the given keys with their local values (the default where no setting is
     * given). Negotiated keys then await the peer's answer in {@link #respond}.
     *
     * @throws IllegalStateException if a key is already settled or awaiting an answer
     * @throws IllegalArgumentException if a key is unknown, has no value, or this side may not send it
     */
    public List<KeyValue> offer(String... keys) {
        List<KeyValue> offers = new ArrayList<>(keys.length);
        for (String key : keys) {
            KeyDefinition definition = Keys.lookup(key)
                    .orElseThrow(() -> new IllegalArgumentException("unknown key " + key));
            if (!definition.senders().allows(localSide)) {
                throw new IllegalArgumentException(localSide + " may not send " + key);
            }
            if (alreadySent(definition)) {
                throw new IllegalStateException(key + " is already negotiated or offered");
            }
            String value = settings.getOrDefault(key, definition.defaultValue());
            if (value == null) {
                throw new IllegalArgumentException("no local value for " + key);
            }
            if (definition.isNegotiated()) {
                outstanding.put(key, value);
                if (decidedByOffer(definition, value)) {
                    results.put(key, value);
                }
            } else {
                localDeclarations.put(key, value);
            }
            offers.add(new KeyValue(key, value));
        }
        return offers;
    }

    /**
     * Offers every operational key of the local settings this side may send and has not offered
     * or settled yet, leaving out keys that are irrelevant in a discovery session and LO keys on
     * a non-leading connection.
     */
    public List<KeyValue> operationalOffers() {
        List<String> keys = new ArrayList<>();
        for (String key : settings.keySet()) {
            KeyDefinition definition = Keys.lookup(key).orElseThrow();
            boolean operational = definition.use() != Use.SECURITY_ONLY && definition.kind() != Kind.REQUEST
                    && definition.use() != Use.FULL_FEATURE_ONLY;
            if (operational && definition.senders().allows(localSide) && !alreadySent(definition)
                    && !(discovery && definition.irrelevantInDiscovery())
                    && (leadingConnection || definition.use() != Use.LEADING_ONLY)) {
                keys.add(key);
            }
        }
        return offer(keys.toArray(String[]::new));
    }

    /**
     * Whether this side has sent the key already: a negotiated key is settled once by either
     * side's offer, but each side declares a declarative key (MaxRecvDataSegmentLength) for itself.
     */
    private boolean alreadySent(KeyDefinition definition) {
        String key = definition.name();
        if (definition.isNegotiated()) {
            return settled.contains(key) || outstanding.containsKey(key);
        }
        return localDeclarations.containsKey(key) || refusedDeclarations.contains(key);
    }

    /**
     * Whether offers of this side still await an answer; an offer whose answer is optional
     * (RFC 7143 §6.2.2) awaits none.
     */
    public boolean hasOutstandingOffers() {
        return !outstandingOffers().isEmpty();
    }

    /** The keys still awaiting an answer, leaving out offers whose answer is optional. */
    public Set<String> outstandingOffers() {
        Set<String> awaiting = new HashSet<>();
        outstanding.forEach((key, value) -> {
            if (!decidedByOffer(Keys.lookup(key).orElseThrow(), value)) {
                awaiting.add(key);
            }
        });
        return Set.copyOf(awaiting);
    }

    /**
     * RFC 7143 §6.2.2: whether an offer decides its key's result whatever the responder's value,
     * so that its answer is optional: {@code Yes} for an OR key, {@code No} for an AND key.
     */
    static boolean decidedByOffer(KeyDefinition definition, String offered) {
        return switch (definition.kind()) {
            case BOOLEAN_OR -> offered.equals(Keys.YES);
            case BOOLEAN_AND -> offered.equals(Keys.NO);
            default -> false;
        };
    }

    /**
     * Takes what the peer sent in one logical text data segment: answers to this side's offers
     * are checked and recorded, the peer's offers are answered and recorded, declarations and
     * authentication keys are recorded.
     *
     * @param stage the stage the PDU was sent in (FULL_FEATURE_PHASE for Text Requests/Responses)
     * @return this side's answers, in the order of the peer's keys
     * @throws NegotiationException when an answer breaks its key's result function, or a key is
     *     negotiated a second time
     */
    public List<KeyValue> respond(List<KeyValue> received, LoginStage stage) throws NegotiationException {
        List<KeyValue> answers = new ArrayList<>();
        for (KeyValue pair : received) {
            String key = pair.key();
            String offered = outstanding.remove(key);
            if (offered != null) {
                acceptAnswer(Keys.lookup(key).orElseThrow(), offered, pair.value());
                continue;
            }
            KeyDefinition definition = Keys.lookup(key).orElse(null);
            if (pair.isNegativeAnswer() && localDeclarations.containsKey(key)) {
                // tgt 1.0.85 answers Reject to the iSER declarations it does not know
                // (InitiatorRecvDataSegmentLength): it keeps the key's default, so this side does too.
                localDeclarations.remove(key);
                refusedDeclarations.add(key);
                continue;
            }
            if (pair.isNegativeAnswer()) {
                throw new NegotiationException(key, "the peer answered " + pair + " to a key that was not offered");
            }
            if (definition == null) {
                answers.add(new KeyValue(key, KeyValue.NOT_UNDERSTOOD));
                continue;
            }
            if (isRepeatedDeclaration(definition, pair.value())) {
                continue;
            }
            if (settled.contains(key) && !REPEATABLE.contains(key)) {
                throw new NegotiationException(key, key + " was already negotiated in this login; RFC 7143 §6.2"
                        + " forbids negotiating it again");
            }
            String answer = answerOffer(definition, pair.value(), stage);
            if (answer != null) {
                answers.add(new KeyValue(key, answer));
            }
        }
        keepFirstBurstWithinMaxBurst(answers);
        return answers;
    }

    /**
     * Whether the peer declares again what it declared before, with the same value: libiscsi
     * repeats InitiatorName after AuthMethod=None on a discovery session. RFC 7143 §6.2 forbids
     * it, but tgtd and LIO take it and nothing changes, so it is taken (and not answered) too.
     */
    private boolean isRepeatedDeclaration(KeyDefinition definition, String value) {
        boolean declarative = definition.kind() == Kind.DECLARATIVE || definition.kind() == Kind.NUMERICAL_DECLARATIVE;
        return declarative && !REPEATABLE.contains(definition.name())
                && peerValue(definition.name()).filter(value::equals).isPresent();
    }

    /**
     * FirstBurstLength must not exceed MaxBurstLength (RFC 7143 §13.14). When this side answers
     * FirstBurstLength, the minimum function lets it answer any smaller value, so it answers no
     * more than the MaxBurstLength result rather than let the login fail.
     */
    private void keepFirstBurstWithinMaxBurst(List<KeyValue> answers) {
        String firstBurst = results.get(Keys.FIRST_BURST_LENGTH);
        if (firstBurst == null || discovery) {
            return;
        }
        long maxBurst = number(results, Keys.MAX_BURST_LENGTH);
        for (int i = 0; i < answers.size(); i++) {
            KeyValue answer = answers.get(i);
            if (answer.key().equals(Keys.FIRST_BURST_LENGTH) && answer.value().equals(firstBurst)
                    && TextCodec.parseNumber(firstBurst).getAsLong() > maxBurst) {
                String clamped = Long.toString(maxBurst);
                results.put(Keys.FIRST_BURST_LENGTH, clamped);
                answers.set(i, new KeyValue(Keys.FIRST_BURST_LENGTH, clamped));
            }
        }
    }

    /** The answer to a peer's offer of {@code definition}, or {@code null} when none is due. */
    private String answerOffer(KeyDefinition definition, String value, LoginStage stage) {
        String key = definition.name();
        if (!definition.senders().allows(localSide.peer()) || !allowedInStage(definition, stage)) {
            return KeyValue.REJECT;
        }
        switch (definition.kind()) {
            case DECLARATIVE, NUMERICAL_DECLARATIVE -> {
                if (!definition.accepts(value)) {
                    return KeyValue.REJECT;
                }
                if (key.equals(Keys.SESSION_TYPE)) {
                    discovery = value.equals(Keys.DISCOVERY);
                }
                recordPeerValue(key, value);
                return null;
            }
            case AUTHENTICATION, REQUEST -> {
                recordPeerValue(key, value);
                return null;
            }
            default -> {
                settled.add(key);
                if (discovery && definition.irrelevantInDiscovery()) {
                    return KeyValue.IRRELEVANT;
                }
                String local = settings.getOrDefault(key, definition.defaultValue());
                String result = select(definition, local, value);
                if (!result.equals(KeyValue.REJECT)) {
                    results.put(key, result);
                }
                return localSide == Side.TARGET && decidedByOffer(definition, value) ? null : result;
            }
        }
    }

    private boolean allowedInStage(KeyDefinition definition, LoginStage stage) {
        boolean login = stage != LoginStage.FULL_FEATURE_PHASE;
        return switch (definition.use()) {
            case SECURITY_ONLY -> stage == LoginStage.SECURITY_NEGOTIATION;
            case INITIALIZE_ONLY -> login;
            case LEADING_ONLY -> login && leadingConnection;
            case FULL_FEATURE_ONLY -> !login;
            case ALL -> true;
        };
    }

    /** The responder's choice per result function (RFC 7143 §5.2.2, §6.2). */
    private static String select(KeyDefinition definition, String local, String offered) {
        return switch (definition.kind()) {
            case BOOLEAN_AND -> definition.accepts(offered)
                    ? yesNo(local.equals(Keys.YES) && offered.equals(Keys.YES)) : KeyValue.REJECT;
            case BOOLEAN_OR -> definition.accepts(offered)
                    ? yesNo(local.equals(Keys.YES) || offered.equals(Keys.YES)) : KeyValue.REJECT;
            case NUMERICAL_MIN, NUMERICAL_MAX -> {
                if (!definition.accepts(offered)) {
                    yield KeyValue.REJECT;
                }
                long theirs = TextCodec.parseNumber(offered).getAsLong();
                long ours = TextCodec.parseNumber(local).getAsLong();
                yield Long.toString(definition.kind() == Kind.NUMERICAL_MIN ? Math.min(theirs, ours)
                        : Math.max(theirs, ours));
            }
            case LIST -> {
                List<String> acceptable = List.of(local.split(","));
                for (String candidate : offered.split(",", -1)) {
                    if (acceptable.contains(candidate) && definition.accepts(candidate)) {
                        yield candidate;
                    }
                }
                yield KeyValue.REJECT;
            }
            default -> throw new IllegalStateException("not a negotiated kind: " + definition.kind());
        };
    }

    /** Checks the peer's answer to this side's offer against the key's result function. */
    private void acceptAnswer(KeyDefinition definition, String offered, String answer) throws NegotiationException {
        String key = definition.name();
        settled.add(key);
        if (answer.equals(KeyValue.NOT_UNDERSTOOD) || answer.equals(KeyValue.IRRELEVANT)
                || answer.equals(KeyValue.REJECT)) {
            results.remove(key);
            return; // the key keeps its default
        }
        boolean valid = switch (definition.kind()) {
            case BOOLEAN_AND -> definition.accepts(answer) && !(offered.equals(Keys.NO) && answer.equals(Keys.YES));
            case BOOLEAN_OR -> definition.accepts(answer) && !(offered.equals(Keys.YES) && answer.equals(Keys.NO));
            case NUMERICAL_MIN -> definition.accepts(answer)
                    && TextCodec.parseNumber(answer).getAsLong() <= TextCodec.parseNumber(offered).getAsLong();
            case NUMERICAL_MAX -> definition.accepts(answer)
                    && TextCodec.parseNumber(answer).getAsLong() >= TextCodec.parseNumber(offered).getAsLong();
            case LIST -> !answer.contains(",") && List.of(offered.split(",")).contains(answer);
            default -> throw new IllegalStateException("not a negotiated kind: " + definition.kind());
        };
        if (!valid) {
            throw new NegotiationException(key, "answer " + key + "=" + answer + " to the offer " + key + "="
                    + offered + " breaks the " + describe(definition) + " rule");
        }
        results.put(key, answer);
    }

    private static String describe(KeyDefinition definition) {
        return switch (definition.kind()) {
            case BOOLEAN_AND -> "AND";
            case BOOLEAN_OR -> "OR";
            case NUMERICAL_MIN -> "minimum (in " + definition.min() + ".." + definition.max() + ")";
            case NUMERICAL_MAX -> "maximum (in " + definition.min() + ".." + definition.max() + ")";
            case LIST -> "first acceptable value of the offered list";
            default -> definition.kind().name();
        };
    }

    private void recordPeerValue(String key, String value) {
        settled.add(key);
        peerValues.computeIfAbsent(key, k -> new ArrayList<>()).add(value);
    }

    private static String yesNo(boolean value) {
        return value ? Keys.YES : Keys.NO;
    }

    /** The negotiated result of a key, if it was negotiated with a value (not Reject or NotUnderstood). */
    public Optional<String> result(String key) {
        return Optional.ofNullable(results.get(key));
    }

    /** The first value the peer declared or sent for a declarative, authentication or request key. */
    public Optional<String> peerValue(String key) {
        List<String> values = peerValues.get(key);
        return values == null ? Optional.empty() : Optional.of(values.getFirst());
    }

    /** Every value the peer sent for a key that may repeat (TargetAddress in a SendTargets answer). */
    public List<String> peerValues(String key) {
        return List.copyOf(peerValues.getOrDefault(key, List.of()));
    }

    /**
     * The typed outcome, with defaults for keys left unnegotiated.
     *
     * @throws NegotiationException when the results contradict each other (FirstBurstLength &gt; MaxBurstLength)
     */
    public NegotiatedParameters parameters() throws NegotiationException {
        int localRecv = (int) declared(Keys.MAX_RECV_DATA_SEGMENT_LENGTH, localDeclarations.get(Keys.MAX_RECV_DATA_SEGMENT_LENGTH));
        int peerRecv = (int) declared(Keys.MAX_RECV_DATA_SEGMENT_LENGTH, peerValue(Keys.MAX_RECV_DATA_SEGMENT_LENGTH).orElse(null));
        boolean initiator = localSide == Side.INITIATOR;
        String initiatorIser = initiator ? localDeclarations.get(Keys.INITIATOR_RECV_DATA_SEGMENT_LENGTH)
                : peerValue(Keys.INITIATOR_RECV_DATA_SEGMENT_LENGTH).orElse(null);
        String targetIser = initiator ? peerValue(Keys.TARGET_RECV_DATA_SEGMENT_LENGTH).orElse(null)
                : localDeclarations.get(Keys.TARGET_RECV_DATA_SEGMENT_LENGTH);
        String localUnexpected = localDeclarations.get(Keys.MAX_OUTSTANDING_UNEXPECTED_PDUS);
        String peerUnexpected = peerValue(Keys.MAX_OUTSTANDING_UNEXPECTED_PDUS).orElse(null);
        NegotiatedParameters parameters = new NegotiatedParameters(
                Keys.CRC32C.equals(results.get(Keys.HEADER_DIGEST)), Keys.CRC32C.equals(results.get(Keys.DATA_DIGEST)),
                initiator ? localRecv : peerRecv, initiator ? peerRecv : localRecv,
                (int) number(results, Keys.MAX_BURST_LENGTH), (int) number(results, Keys.FIRST_BURST_LENGTH),
                bool(Keys.INITIAL_R2T), bool(Keys.IMMEDIATE_DATA), (int) number(results, Keys.MAX_OUTSTANDING_R2T),
                bool(Keys.DATA_PDU_IN_ORDER), bool(Keys.DATA_SEQUENCE_IN_ORDER),
                (int) number(results, Keys.ERROR_RECOVERY_LEVEL), (int) number(results, Keys.DEFAULT_TIME_2_WAIT),
                (int) number(results, Keys.DEFAULT_TIME_2_RETAIN), (int) number(results, Keys.MAX_CONNECTIONS),
                bool(Keys.RDMA_EXTENSIONS), (int) declared(Keys.TARGET_RECV_DATA_SEGMENT_LENGTH, targetIser),
                (int) declared(Keys.INITIATOR_RECV_DATA_SEGMENT_LENGTH, initiatorIser),
                declared(Keys.MAX_OUTSTANDING_UNEXPECTED_PDUS, initiator ? localUnexpected : peerUnexpected),
                declared(Keys.MAX_OUTSTANDING_UNEXPECTED_PDUS, initiator ? peerUnexpected : localUnexpected),
                (int) number(results, Keys.ISCSI_PROTOCOL_LEVEL));
        if (!discovery && parameters.firstBurstLength() > parameters.maxBurstLength()) {
            throw new NegotiationException(Keys.FIRST_BURST_LENGTH, "negotiated FirstBurstLength "
                    + parameters.firstBurstLength() + " exceeds MaxBurstLength " + parameters.maxBurstLength());
        }
        return parameters;
    }

    private boolean bool(String key) {
        return results.getOrDefault(key, Keys.lookup(key).orElseThrow().defaultValue()).equals(Keys.YES);
    }

    /** A declarative key's value as declared, or its default when not declared (or not a number). */
    private static long declared(String key, String value) {
        long byDefault = TextCodec.parseNumber(Keys.lookup(key).orElseThrow().defaultValue()).orElseThrow();
        return value == null ? byDefault : TextCodec.parseNumber(value).orElse(byDefault);
    }

    private static long number(Map<String, String> values, String key) {
        String value = values.getOrDefault(key, Keys.lookup(key).orElseThrow().defaultValue());
        return TextCodec.parseNumber(value).orElseThrow();
    }
}
