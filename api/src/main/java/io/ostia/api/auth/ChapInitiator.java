package io.ostia.api.auth;

import io.ostia.api.AuthenticationException;

import io.ostia.api.text.KeyValue;
import io.ostia.api.text.Keys;
import io.ostia.api.text.TextCodec;
import io.ostia.api.text.TextFormatException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The initiator's half of a CHAP exchange (RFC 7143 §12.1.3), one-way or mutual:
 * <ol>
 *   <li>{@link #offerAlgorithms()}: CHAP_A with the acceptable algorithms;</li>
 *   <li>{@link #respond}: to the target's CHAP_A, CHAP_I, CHAP_C, with CHAP_N and CHAP_R, and
 *       for mutual CHAP this side's own CHAP_I and CHAP_C;</li>
 *   <li>{@link #verifyTarget}: for mutual CHAP, the target's CHAP_N and CHAP_R.</li>
 * </ol>
 * One instance per login; not thread-safe.
 */
public final class ChapInitiator {
    private final ChapSecret credentials;
    private final Optional<ChapSecret> targetCredentials;
    private final List<ChapAlgorithm> acceptable;
    private final SecureRandom random;
    private ChapAlgorithm algorithm;
    private int mutualIdentifier;
    private byte[] mutualChallenge;

    /**
     * @param credentials this initiator's name and secret
     * @param targetCredentials for mutual CHAP, the name and secret the target must prove
     * @param acceptable algorithms in order of preference
     */
    public ChapInitiator(ChapSecret credentials, Optional<ChapSecret> targetCredentials,
            List<ChapAlgorithm> acceptable, SecureRandom random) {
        this.credentials = Objects.requireNonNull(credentials, "credentials");
        this.targetCredentials = Objects.requireNonNull(targetCredentials, "targetCredentials");
        this.acceptable = List.copyOf(acceptable);
        this.random = Objects.requireNonNull(random, "random");
        targetCredentials.ifPresent(target -> Chap.requireDistinctSecrets(credentials, target));
        ChapAlgorithm.offer(this.acceptable); // fails early on an empty list
    }

    public List<KeyValue> offerAlgorithms() {
        return List.of(new KeyValue(Keys.CHAP_A, ChapAlgorithm.offer(acceptable)));
    }

    /**
     * Answers the target's challenge.
     *
     * @throws AuthenticationException when the target chose an algorithm that was not offered or
     *     sent malformed CHAP_I / CHAP_C
     */
    public List<KeyValue> respond(String chapA, String chapI, String chapC) throws AuthenticationException {
        algorithm = ChapAlgorithm.select(chapA, acceptable).filter(a -> Integer.toString(a.code()).equals(chapA))
                .orElseThrow(() -> new AuthenticationException("the target chose CHAP_A=" + chapA
                        + ", which was not offered (" + ChapAlgorithm.offer(acceptable) + ")"));
        try {
            int identifier = Chap.parseIdentifier(chapI);
            byte[] receivedChallenge = Chap.parseBinary(Keys.CHAP_C, chapC);
            List<KeyValue> answer = new ArrayList<>();
            answer.add(new KeyValue(Keys.CHAP_N, credentials.name()));
            answer.add(new KeyValue(Keys.CHAP_R,
                    TextCodec.encodeHex(Chap.response(algorithm, identifier, credentials, receivedChallenge))));
            if (targetCredentials.isPresent()) {
                mutualIdentifier = Chap.newIdentifier(random);
                mutualChallenge = Chap.newChallenge(algorithm, random);
                answer.add(new KeyValue(Keys.CHAP_I, Integer.toString(mutualIdentifier)));
                answer.add(new KeyValue(Keys.CHAP_C, TextCodec.encodeHex(mutualChallenge)));
            }
            return answer;
        } catch (TextFormatException e) {
            throw new AuthenticationException("malformed CHAP challenge from the target: " + e.getMessage(), e);
        }
    }

    /** Whether this exchange is mutual: the target must answer {@link #respond}'s challenge. */
    public boolean mutual() {
        return targetCredentials.isPresent();
    }

    /**
     * Checks the target's answer to the mutual challenge.
     *
     * @throws AuthenticationException when the name or response is wrong or missing
     */
    public void verifyTarget(String chapN, String chapR) throws AuthenticationException {
        if (mutualChallenge == null) {
            throw new IllegalStateException("no mutual challenge was sent");
        }
        ChapSecret target = targetCredentials.orElseThrow();
        if (chapN == null || chapR == null) {
            throw new AuthenticationException("the target did not answer the mutual CHAP challenge");
        }
        if (!chapN.equals(target.name())) {
            throw new AuthenticationException("the target authenticated as \"" + chapN + "\", expected \""
                    + target.name() + "\"");
        }
        try {
            byte[] response = Chap.parseBinary(Keys.CHAP_R, chapR);
            if (!Chap.verify(algorithm, mutualIdentifier, target, mutualChallenge, response)) {
                throw new AuthenticationException("the target's CHAP response is wrong (secret mismatch)");
            }
        } catch (TextFormatException e) {
            throw new AuthenticationException("malformed CHAP_R from the target: " + e.getMessage(), e);
        }
    }
}
