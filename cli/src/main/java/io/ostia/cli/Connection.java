package io.ostia.cli;

import io.ostia.api.ChapCredentials;
import io.ostia.api.DigestPolicy;
import io.ostia.api.IscsiUrl;
import io.ostia.api.SessionOptions;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Options every command that logs in shares: initiator name, transport preference, digests, the
 * URL, and CHAP credentials from libiscsi's environment variables when the URL gives none.
 */
final class Connection {
    static final Set<String> FLAGS = Set.of();
    static final Set<String> VALUES = Set.of("i", "transport", "header-digest", "data-digest");
    static final Map<String, String> ALIASES = Map.of("initiator-name", "i");

    private Connection() {
    }

    static final String USAGE = """
              -i, --initiator-name iqn     this initiator's name
              --transport tcp,iser         transports in order of preference (tcp)
              --header-digest, --data-digest none|crc32c|prefer-crc32c|prefer-none
              CHAP: user%password@ in the URL, ?target_user=&target_password= for mutual CHAP, or
              LIBISCSI_CHAP_USERNAME/_PASSWORD and LIBISCSI_CHAP_TARGET_USERNAME/_PASSWORD
            """;

    static SessionOptions.Builder options(Args args, IscsiUrl url) throws Args.UsageException {
        return options(args, url, System.getenv());
    }

    static SessionOptions.Builder options(Args args, IscsiUrl url, Map<String, String> environment)
            throws Args.UsageException {
        SessionOptions.Builder options = SessionOptions.fromUrl(url)
                .headerDigest(digest(args, "header-digest"))
                .dataDigest(digest(args, "data-digest"));
        // Set only when given: what is left unset the initiator's settings fill in at login.
        String name = args.value("i", null);
        if (name != null) {
            options.initiatorName(name);
        }
        String transports = args.value("transport", null);
        if (transports != null) {
            options.transports(List.of(transports.split(",")));
        }
        if (url.chap().isEmpty()) {
            chapFromEnvironment(environment).ifPresent(options::chap);
        }
        return options;
    }

    private static DigestPolicy digest(Args args, String option) throws Args.UsageException {
        String value = args.value(option, "none").toLowerCase(java.util.Locale.ROOT);
        return switch (value) {
            case "none" -> DigestPolicy.NONE;
            case "crc32c" -> DigestPolicy.REQUIRE_CRC32C;
            case "prefer-crc32c" -> DigestPolicy.PREFER_CRC32C;
            case "prefer-none" -> DigestPolicy.PREFER_NONE;
            default -> throw new Args.UsageException("--" + option + " takes none, crc32c, prefer-crc32c or"
                    + " prefer-none, not '" + value + "'");
        };
    }

    /** libiscsi's variables: LIBISCSI_CHAP_USERNAME / _PASSWORD, and _TARGET_ ones for mutual CHAP. */
    static Optional<ChapCredentials> chapFromEnvironment(Map<String, String> environment) throws Args.UsageException {
        String user = environment.get("LIBISCSI_CHAP_USERNAME");
        String password = environment.get("LIBISCSI_CHAP_PASSWORD");
        String targetUser = environment.get("LIBISCSI_CHAP_TARGET_USERNAME");
        String targetPassword = environment.get("LIBISCSI_CHAP_TARGET_PASSWORD");
        if (user == null) {
            if (targetUser != null) {
                throw new Args.UsageException("LIBISCSI_CHAP_TARGET_USERNAME is set but LIBISCSI_CHAP_USERNAME is not:"
                        + " mutual CHAP needs the initiator's credentials too");
            }
            return Optional.empty();
        }
        if (password == null) {
            throw new Args.UsageException("LIBISCSI_CHAP_USERNAME is set but LIBISCSI_CHAP_PASSWORD is not");
        }
        if (targetUser == null) {
            return Optional.of(ChapCredentials.oneWay(user, password));
        }
        if (targetPassword == null) {
            throw new Args.UsageException("LIBISCSI_CHAP_TARGET_USERNAME is set but LIBISCSI_CHAP_TARGET_PASSWORD is not");
        }
        return Optional.of(ChapCredentials.mutual(user, password, targetUser, targetPassword));
    }

    static Set<String> union(Set<String> a, Set<String> b) {
        java.util.HashSet<String> all = new java.util.HashSet<>(a);
        all.addAll(b);
        return all;
    }

    static Map<String, String> union(Map<String, String> a, Map<String, String> b) {
        java.util.HashMap<String, String> all = new java.util.HashMap<>(a);
        all.putAll(b);
        return all;
    }
}
