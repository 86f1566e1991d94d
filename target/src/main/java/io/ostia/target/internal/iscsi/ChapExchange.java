package io.ostia.target.internal.iscsi;

import io.ostia.api.ChapCredentials;
import io.ostia.api.text.KeyValue;
import io.ostia.api.text.Keys;
import io.ostia.api.text.TextCodec;
import io.ostia.api.text.TextFormatException;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.List;
import java.util.Optional;

/**
 * The authenticator's side of CHAP in the security stage (RFC 7143 §12.1.3, RFC 1994): choose
 * an algorithm from CHAP_A, challenge, check CHAP_N / CHAP_R, and answer the initiator's own
 * challenge for mutual CHAP.
 */
final class ChapExchange {

    /** A CHAP failure; its message says what was wrong (never a secret). */
    static final class ChapException extends Exception {
        ChapException(String message) {
            super(message, null, false, false);
        }
    }

    /** CHAP_A values and their digests: MD5 (RFC 1994), SHA-1, SHA-256, SHA3-256 (IANA PPP CHAP registry). */
    private record Algorithm(int code, String digest) {
    }

    private static final List<Algorithm> ALGORITHMS = List.of(new Algorithm(5, "MD5"), new Algorithm(6, "SHA-1"),
            new Algorithm(7, "SHA-256"), new Algorithm(8, "SHA3-256"));
    private static final SecureRandom RANDOM = new SecureRandom();

    private final ChapCredentials credentials;
    private Algorithm algorithm;
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
            algorithm = choose(offered.get());
            identifier = RANDOM.nextInt(256);
            challenge = new byte[Math.max(16, digest(algorithm).getDigestLength())];
            RANDOM.nextBytes(challenge);
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
        byte[] expected = hash(algorithm, identifier, credentials.secret(), challenge);
        if (!MessageDigest.isEqual(expected, binary(Keys.CHAP_R, response))) {
            throw new ChapException("CHAP_R does not match the secret configured for " + name);
        }
        Optional<String> theirIdentifier = value(keys, Keys.CHAP_I);
        Optional<String> theirChallenge = value(keys, Keys.CHAP_C);
        if (theirIdentifier.isPresent() != theirChallenge.isPresent()) {
            throw new ChapException("mutual CHAP needs both CHAP_I and CHAP_C");
        }
        if (theirIdentifier.isPresent()) {
            if (credentials.targetUser().isEmpty()) {
                throw new ChapException("the initiator asks for mutual CHAP but the target has no CHAP secret of its own");
            }
            long id = TextCodec.parseNumber(theirIdentifier.get()).orElse(-1);
            if (id < 0 || id > 255) {
                throw new ChapException("CHAP_I " + theirIdentifier.get() + " is not in 0..255");
            }
            byte[] c = binary(Keys.CHAP_C, theirChallenge.get());
            if (MessageDigest.isEqual(c, challenge)) {
                throw new ChapException("the initiator's CHAP_C repeats the target's challenge (reflection)");
            }
            answers.add(new KeyValue(Keys.CHAP_N, credentials.targetUser().get()));
            answers.add(new KeyValue(Keys.CHAP_R, TextCodec.encodeHex(
                    hash(algorithm, (int) id, credentials.targetSecret().get(), c))));
        }
        return true;
    }

    private static Algorithm choose(String offered) throws ChapException {
        for (String candidate : offered.split(",")) {
            for (Algorithm a : ALGORITHMS) {
                if (candidate.trim().equals(Integer.toString(a.code()))) {
                    return a;
                }
            }
        }
        throw new ChapException("no CHAP algorithm in CHAP_A=" + offered + " is supported (5, 6, 7, 8 are)");
    }

    private static byte[] binary(String key, String value) throws ChapException {
        try {
            return TextCodec.decodeBinary(value);
        } catch (TextFormatException e) {
            throw new ChapException(key + " is not a binary value: " + e.getMessage());
        }
    }

    private static MessageDigest digest(Algorithm algorithm) throws ChapException {
        try {
            return MessageDigest.getInstance(algorithm.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new ChapException("this JVM lacks " + algorithm.digest() + " for CHAP_A=" + algorithm.code());
        }
    }

    private static byte[] hash(Algorithm algorithm, int identifier, String secret, byte[] challenge) throws ChapException {
        MessageDigest md = digest(algorithm);
        md.update((byte) identifier);
        md.update(secret.getBytes(StandardCharsets.UTF_8));
        md.update(challenge);
        return md.digest();
    }
}
