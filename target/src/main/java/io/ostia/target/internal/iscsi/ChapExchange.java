package io.ostia.target.internal.iscsi;

import io.ostia.api.ChapCredentials;
import io.ostia.api.auth.Chap;
import io.ostia.api.auth.ChapAlgorithm;
import io.ostia.api.auth.ChapSecret;
import io.ostia.api.text.KeyValue;
import io.ostia.api.text.Keys;
import io.ostia.api.text.TextCodec;
import io.ostia.api.text.TextFormatException;

import java.security.SecureRandom;
import java.util.List;
import java.util.Optional;

/**
 * The authenticator's side of CHAP in the security stage (RFC 7143 §12.1.3), on the api's CHAP
 * computations: choose an algorithm from CHAP_A, challenge, check CHAP_N / CHAP_R, and answer
 * the initiator's own challenge for mutual CHAP.
 */
final class ChapExchange {

    /** A CHAP failure; its message says what was wrong (never a secret). */
    static final class ChapException extends Exception {
        ChapException(String message) {
            super(message, null, false, false);
        }
    }

    private static final List<ChapAlgorithm> ACCEPTABLE = List.of(ChapAlgorithm.values());
    private static final SecureRandom RANDOM = new SecureRandom();

    private final ChapCredentials credentials;
    private ChapAlgorithm algorithm;
    private int identifier;
    private byte[] challenge;

    ChapExchange(ChapCredentials credentials) {
        this.credentials = credentials;
    }

    private static Optional<String> value(List<KeyValue> keys, String key) {
        return keys.stream().filter(k -> k.key().equals(key)).map(KeyValue::value).findFirst();
    }

    /**
     * Takes one request's keys and adds the answers.
     *
     * @return true once the initiator is authenticated (and, for mutual CHAP, answered)
     */
    boolean step(List<KeyValue> keys, List<KeyValue> answers) throws ChapException {
        if (algorithm == null) {
            Optional<String> offered = value(keys, Keys.CHAP_A);
            if (offered.isEmpty()) {
                if (value(keys, Keys.CHAP_N).isPresent() || value(keys, Keys.CHAP_R).isPresent()) {
                    throw new ChapException("CHAP_N/CHAP_R before CHAP_A");
                }
                return false;
            }
            algorithm = ChapAlgorithm.select(offered.get(), ACCEPTABLE).orElseThrow(() -> new ChapException(
                    "no CHAP algorithm in CHAP_A=" + offered.get() + " is supported (5, 6, 7, 8 are)"));
            identifier = Chap.newIdentifier(RANDOM);
            challenge = Chap.newChallenge(algorithm, RANDOM);
            answers.add(new KeyValue(Keys.CHAP_A, Integer.toString(algorithm.code())));
            answers.add(new KeyValue(Keys.CHAP_I, Integer.toString(identifier)));
            answers.add(new KeyValue(Keys.CHAP_C, TextCodec.encodeHex(challenge)));
            return false;
        }
        String name = value(keys, Keys.CHAP_N).orElseThrow(() -> new ChapException("CHAP_N missing"));
        String response = value(keys, Keys.CHAP_R).orElseThrow(() -> new ChapException("CHAP_R missing"));
        if (!name.equals(credentials.user())) {
            throw new ChapException("CHAP_N " + name + " is not the configured CHAP user");
        }
        try {
            if (!Chap.verify(algorithm, identifier, ChapSecret.of(name, credentials.secret()), challenge,
                    Chap.parseBinary(Keys.CHAP_R, response))) {
                throw new ChapException("CHAP_R does not match the secret configured for " + name);
            }
            Optional<String> theirIdentifier = value(keys, Keys.CHAP_I);
            Optional<String> theirChallenge = value(keys, Keys.CHAP_C);
            if (theirIdentifier.isPresent() != theirChallenge.isPresent()) {
                throw new ChapException("mutual CHAP needs both CHAP_I and CHAP_C");
            }
            if (theirIdentifier.isPresent()) {
                if (credentials.targetUser().isEmpty()) {
                    throw new ChapException(
                            "the initiator asks for mutual CHAP but the target has no CHAP secret of its own");
                }
                int id = Chap.parseIdentifier(theirIdentifier.get());
                byte[] c = Chap.parseBinary(Keys.CHAP_C, theirChallenge.get());
                if (Chap.isReflection(challenge, c)) {
                    throw new ChapException("the initiator's CHAP_C repeats the target's challenge (reflection)");
                }
                String targetUser = credentials.targetUser().get();
                answers.add(new KeyValue(Keys.CHAP_N, targetUser));
                answers.add(new KeyValue(Keys.CHAP_R, TextCodec.encodeHex(Chap.response(algorithm, id,
                        ChapSecret.of(targetUser, credentials.targetSecret().get()), c))));
            }
        } catch (TextFormatException e) {
            throw new ChapException(e.getMessage());
        }
        return true;
    }
}
