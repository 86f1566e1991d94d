package io.ostia.cli;

import io.ostia.api.IscsiUrl;
import io.ostia.api.SessionOptions;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Options every command shares: initiator name, transport preference, the URL. */
final class Connection {
    static final Set<String> FLAGS = Set.of();
    static final Set<String> VALUES = Set.of("i", "transport");
    static final Map<String, String> ALIASES = Map.of("initiator-name", "i");

    private Connection() {
    }

    static SessionOptions.Builder options(Args args, IscsiUrl url) {
        return SessionOptions.fromUrl(url)
                .initiatorName(args.value("i", SessionOptions.DEFAULT_INITIATOR_PREFIX))
                .transports(List.of(args.value("transport", "tcp").split(",")));
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
