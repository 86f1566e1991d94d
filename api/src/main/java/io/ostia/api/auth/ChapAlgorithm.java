package io.ostia.api.auth;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * CHAP hash algorithms with their IANA "PPP Authentication Algorithms" numbers, as sent in
 * CHAP_A (RFC 7143 §12.1.3; the same numbers Linux's target uses).
 */
public enum ChapAlgorithm {
    MD5(5, "MD5", 16),
    SHA1(6, "SHA-1", 20),
    SHA256(7, "SHA-256", 32),
    SHA3_256(8, "SHA3-256", 32);

    private static final ChapAlgorithm[] VALUES = values();

    private final int code;
    private final String jcaName;
    private final int digestLength;

    ChapAlgorithm(int code, String jcaName, int digestLength) {
        this.code = code;
        this.jcaName = jcaName;
        this.digestLength = digestLength;
    }

    /** The CHAP_A number. */
    public int code() {
        return code;
    }

    /** Length of the response in bytes. */
    public int digestLength() {
        return digestLength;
    }

    MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance(jcaName);
        } catch (NoSuchAlgorithmException e) {
            // Every Java SE runtime must provide MD5, SHA-1, SHA-256 and SHA3-256.
            throw new IllegalStateException("the JDK lacks " + jcaName, e);
        }
    }

    public static Optional<ChapAlgorithm> fromCode(int code) {
        for (ChapAlgorithm algorithm : VALUES) {
            if (algorithm.code == code) {
                return Optional.of(algorithm);
            }
        }
        return Optional.empty();
    }

    /** A CHAP_A offer in order of preference, such as "7,5". */
    public static String offer(List<ChapAlgorithm> preferred) {
        if (preferred.isEmpty()) {
            throw new IllegalArgumentException("a CHAP_A offer needs at least one algorithm");
        }
        return preferred.stream().map(a -> Integer.toString(a.code)).collect(Collectors.joining(","));
    }

    /**
     * The target's choice: the first algorithm of the initiator's CHAP_A list that is acceptable.
     * Numbers it does not know are skipped, as RFC 7143 §12.1.3 allows; empty when none is left
     * (the target then answers CHAP_A=Reject and fails the login).
     */
    public static Optional<ChapAlgorithm> select(String offered, List<ChapAlgorithm> acceptable) {
        for (String item : offered.split(",")) {
            if (!item.isEmpty() && item.chars().allMatch(Character::isDigit) && item.length() <= 3) {
                Optional<ChapAlgorithm> algorithm = fromCode(Integer.parseInt(item));
                if (algorithm.isPresent() && acceptable.contains(algorithm.get())) {
                    return algorithm;
                }
            }
        }
        return Optional.empty();
    }
}
