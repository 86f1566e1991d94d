package io.ostia.api;

import java.util.Optional;

/**
 * CHAP secrets for a login: the initiator's (one-way) and optionally the target's (mutual: the
 * initiator challenges the target and checks its answer).
 */
public record ChapCredentials(String user, String secret, Optional<String> targetUser, Optional<String> targetSecret) {

    public ChapCredentials {
        requireNonEmpty("CHAP user", user);
        requireNonEmpty("CHAP secret", secret);
        if (targetUser.isPresent() != targetSecret.isPresent()) {
            throw new IllegalArgumentException("mutual CHAP needs both the target's user and secret");
        }
        targetUser.ifPresent(u -> requireNonEmpty("mutual CHAP target user", u));
        targetSecret.ifPresent(s -> requireNonEmpty("mutual CHAP target secret", s));
        if (targetSecret.isPresent() && targetSecret.get().equals(secret)) {
            // RFC 7143 12.1.3: the two directions must use different secrets.
            throw new IllegalArgumentException("mutual CHAP: the target's secret must differ from the initiator's");
        }
    }

    public static ChapCredentials oneWay(String user, String secret) {
        return new ChapCredentials(user, secret, Optional.empty(), Optional.empty());
    }

    public static ChapCredentials mutual(String user, String secret, String targetUser, String targetSecret) {
        return new ChapCredentials(user, secret, Optional.of(targetUser), Optional.of(targetSecret));
    }

    public boolean isMutual() {
        return targetUser.isPresent();
    }

    @Override
    public String toString() {
        return "ChapCredentials[user=" + user + (isMutual() ? ", mutual with " + targetUser.get() : "") + "]";
    }

    private static void requireNonEmpty(String what, String value) {
        if (value == null || value.isEmpty()) {
            throw new IllegalArgumentException(what + " is empty");
        }
    }
}
