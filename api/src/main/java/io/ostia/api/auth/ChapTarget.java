package io.ostia.api.auth;

import io.ostia.api.AuthenticationException;

import io.ostia.api.text.KeyValue;
import io.ostia.api.text.Keys;
import io.ostia.api.text.TextCodec;
import io.ostia.api.text.TextFormatException;
import java.security.SecureRandom;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

/**
 * The target's half of a CHAP exchange (RFC 7143 §12.1.3), one-way or mutual:
 * {@link #challenge} answers the initiator's CHAP_A with the chosen algorithm and a fresh
 * CHAP_I / CHAP_C; {@link #verify} checks CHAP_N / CHAP_R and, if the initiator sent its own
 * CHAP_I / CHAP_C, answers them. One instance per login; not thread-safe.
 */
public final class ChapTarget {
    private final Function<String, Optional<ChapSecret>> initiatorSecrets;
    private final Optional<ChapSecret> ownCredentials;
    private final List<ChapAlgorithm> acceptable;
    private final SecureRandom random;
    private ChapAlgorithm algorithm;
    private int identifier;
    private byte[] challenge;

    /**
     * @param initiatorSecrets the secret of each initiator name this target accepts
     * @param ownCredentials this target's name and secret, for initiators that ask for mutual CHAP
     * @param acceptable algorithms this target accepts
     */
    public ChapTarget(Function<String, Optional<ChapSecret>> initiatorSecrets, Optional<ChapSecret> ownCredentials,
            List<ChapAlgorithm> acceptable, SecureRandom random) {
        this.initiatorSecrets = Objects.requireNonNull(initiatorSecrets, "initiatorSecrets");
        this.ownCredentials = Objects.requireNonNull(ownCredentials, "ownCredentials");
        this.acceptable = List.copyOf(acceptable);
        this.random = Objects.requireNonNull(random, "random");
    }

    /**
     * Chooses an algorithm from the initiator's CHAP_A and challenges it.
     *
     * @throws AuthenticationException when no offered algorithm is acceptable
     */
    public List<KeyValue> challenge(String chapA) throws AuthenticationException {
        algorithm = ChapAlgorithm.select(chapA, acceptable).orElseThrow(() -> new AuthenticationException(
                "no CHAP algorithm in common: the initiator offered CHAP_A=" + chapA + ", this target accepts "
                        + ChapAlgorithm.offer(acceptable)));
        identifier = Chap.newIdentifier(random);
        challenge = Chap.newChallenge(algorithm, random);
        return List.of(new KeyValue(Keys.CHAP_A, Integer.toString(algorithm.code())),
                new KeyValue(Keys.CHAP_I, Integer.toString(identifier)),
                new KeyValue(Keys.CHAP_C, TextCodec.encodeHex(challenge)));
    }

    /**
     * Checks the initiator's response; for mutual CHAP ({@code chapI} and {@code chapC} given)
     * answers the initiator's challenge.
     *
     * @return this target's CHAP_N and CHAP_R for mutual CHAP, else nothing
     * @throws AuthenticationException on an unknown name, a wrong response, a reflected challenge,
     *     a mutual request without target credentials, or malformed values
     */
    public List<KeyValue> verify(String chapN, String chapR, String chapI, String chapC)
            throws AuthenticationException {
        if (challenge == null) {
            throw new IllegalStateException("verify before challenge");
        }
        if (chapN == null || chapR == null) {
            throw new AuthenticationException("the initiator sent no CHAP_N / CHAP_R");
        }
        ChapSecret secret = initiatorSecrets.apply(chapN)
                .orElseThrow(() -> new AuthenticationException("unknown CHAP name \"" + chapN + "\""));
        try {
            if (!Chap.verify(algorithm, identifier, secret, challenge, Chap.parseBinary(Keys.CHAP_R, chapR))) {
                throw new AuthenticationException("wrong CHAP response for \"" + chapN + "\" (secret mismatch)");
            }
            if (chapI == null && chapC == null) {
                return List.of();
            }
            if (chapI == null || chapC == null) {
                throw new AuthenticationException("mutual CHAP needs both CHAP_I and CHAP_C from the initiator");
            }
            ChapSecret own = ownCredentials.orElseThrow(() -> new AuthenticationException(
                    "the initiator asked for mutual CHAP, but this target has no CHAP credentials of its own"
                            + " (a target user and secret) to answer with"));
            byte[] theirChallenge = Chap.parseBinary(Keys.CHAP_C, chapC);
            if (Chap.isReflection(challenge, theirChallenge)) {
                throw new AuthenticationException("the initiator's CHAP challenge reflects this target's");
            }
            byte[] response = Chap.response(algorithm, Chap.parseIdentifier(chapI), own, theirChallenge);
            return List.of(new KeyValue(Keys.CHAP_N, own.name()), new KeyValue(Keys.CHAP_R,
                    TextCodec.encodeHex(response)));
        } catch (TextFormatException e) {
            throw new AuthenticationException("malformed CHAP value from the initiator: " + e.getMessage(), e);
        }
    }
}
