package io.ostia.api.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Objects;

/**
 * A CHAP name and secret.
 *
 * <p>The rule: a secret has 1 to 255 bytes. RFC 7143 §12.1.3 recommends at least 12 bytes (96
 * bits) for secrets that are not random; shorter ones are still accepted here, because tgtd
 * and many installations use them and refusing them would only make those targets
 * unreachable. {@link #meetsRecommendedLength()} lets a caller (a CLI, a configuration check)
 * tell users, and a caller that wants the strict rule can refuse on it.
 */
public final class ChapSecret {
    /** RFC 7143 §12.1.3: 96 bits for secrets that are not randomly generated. */
    public static final int RECOMMENDED_MINIMUM_LENGTH = 12;
    /** The longest secret accepted. */
    public static final int MAXIMUM_LENGTH = 255;

    private final String name;
    private final byte[] secret;

    public ChapSecret(String name, byte[] secret) {
        this.name = Objects.requireNonNull(name, "name");
        Objects.requireNonNull(secret, "secret");
        if (name.isEmpty()) {
            throw new IllegalArgumentException("a CHAP name must not be empty");
        }
        if (secret.length == 0 || secret.length > MAXIMUM_LENGTH) {
            throw new IllegalArgumentException("a CHAP secret has 1.." + MAXIMUM_LENGTH + " bytes, this one "
                    + secret.length);
        }
        this.secret = secret.clone();
    }

    /** A secret given as text, used as its UTF-8 bytes (what libiscsi and tgtd do). */
    public static ChapSecret of(String name, String secret) {
        return new ChapSecret(name, secret.getBytes(StandardCharsets.UTF_8));
    }

    /** The CHAP_N value. */
    public String name() {
        return name;
    }

    public int length() {
        return secret.length;
    }

    public boolean meetsRecommendedLength() {
        return secret.length >= RECOMMENDED_MINIMUM_LENGTH;
    }

    /** Whether two secrets are the same, in constant time. */
    public boolean sameSecretAs(ChapSecret other) {
        return MessageDigest.isEqual(secret, other.secret);
    }

    byte[] bytes() {
        return secret;
    }

    /** Overwrites the secret in memory; the object is unusable afterwards. */
    public void destroy() {
        Arrays.fill(secret, (byte) 0);
    }

    @Override
    public String toString() {
        return "ChapSecret[name=" + name + ", " + secret.length + " bytes]";
    }
}
