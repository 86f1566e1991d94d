package io.ostia.api.auth;

import io.ostia.api.text.TextCodec;
import io.ostia.api.text.TextFormatException;
import java.security.MessageDigest;
import java.security.SecureRandom;

/**
 * The CHAP computations of RFC 1994 §4.1 as iSCSI uses them (RFC 7143 §12.1.3): response =
 * H(identifier || secret || challenge).
 */
public final class Chap {
    /** RFC 7143 §12.1.3 bounds binary CHAP values at 1024 bytes. */
    public static final int MAX_CHALLENGE_LENGTH = 1024;
    /** Challenges generated here are never shorter than this, even for a short digest. */
    public static final int MIN_GENERATED_CHALLENGE_LENGTH = 16;

    private Chap() {
    }

    /** H(identifier || secret || challenge). */
    public static byte[] response(ChapAlgorithm algorithm, int identifier, ChapSecret secret, byte[] challenge) {
        if (identifier < 0 || identifier > 255) {
            throw new IllegalArgumentException("CHAP identifier " + identifier + " is not one byte");
        }
        MessageDigest digest = algorithm.newDigest();
        digest.update((byte) identifier);
        digest.update(secret.bytes());
        digest.update(challenge);
        return digest.digest();
    }

    /** Whether {@code received} is the right response, compared in constant time. */
    public static boolean verify(ChapAlgorithm algorithm, int identifier, ChapSecret secret, byte[] challenge,
            byte[] received) {
        return MessageDigest.isEqual(response(algorithm, identifier, secret, challenge), received);
    }

    /** A fresh random challenge as long as the digest (at least {@value #MIN_GENERATED_CHALLENGE_LENGTH} bytes). */
    public static byte[] newChallenge(ChapAlgorithm algorithm, SecureRandom random) {
        byte[] challenge = new byte[Math.max(algorithm.digestLength(), MIN_GENERATED_CHALLENGE_LENGTH)];
        random.nextBytes(challenge);
        return challenge;
    }

    /** A fresh random one-byte identifier. */
    public static int newIdentifier(SecureRandom random) {
        return random.nextInt(256);
    }

    /** Parses CHAP_I: a number 0..255 (decimal, hex or base64). */
    public static int parseIdentifier(String value) throws TextFormatException {
        var number = TextCodec.parseNumber(value);
        if (number.isEmpty() || number.getAsLong() > 255) {
            throw new TextFormatException("CHAP_I", "CHAP_I " + value + " is not a number in 0..255");
        }
        return (int) number.getAsLong();
    }

    /** Parses CHAP_C or CHAP_R: a hex or base64 binary value of 1..1024 bytes. */
    public static byte[] parseBinary(String key, String value) throws TextFormatException {
        byte[] bytes;
        try {
            bytes = TextCodec.decodeBinary(value);
        } catch (TextFormatException e) {
            throw new TextFormatException(key, key + ": " + e.getMessage());
        }
        if (bytes.length == 0 || bytes.length > MAX_CHALLENGE_LENGTH) {
            throw new TextFormatException(key, key + " has " + bytes.length + " bytes, outside 1.."
                    + MAX_CHALLENGE_LENGTH);
        }
        return bytes;
    }

    /**
     * RFC 7143 §12.1.3: a challenge equal to one this side sent is a reflection attack; the login
     * must fail rather than answer it.
     */
    public static boolean isReflection(byte[] sentChallenge, byte[] receivedChallenge) {
        return MessageDigest.isEqual(sentChallenge, receivedChallenge);
    }

    /** RFC 7143 §12.1.3: the secrets of the two directions of a mutual exchange must differ. */
    public static void requireDistinctSecrets(ChapSecret initiatorSecret, ChapSecret targetSecret) {
        if (initiatorSecret.sameSecretAs(targetSecret)) {
            throw new IllegalArgumentException("mutual CHAP needs different initiator and target secrets");
        }
    }
}
