package io.ostia.api;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * A target address in libiscsi's URL form:
 * {@code iscsi://[user[%password]@]host[:port][/target-iqn[/lun]][?target_user=U&target_password=P]}.
 *
 * <p>The target and LUN may be left out to name only a portal (for discovery). The query keys
 * {@code target_user} and {@code target_password} give the credentials the target must prove in
 * mutual CHAP, as libiscsi accepts them. IPv6 hosts go in brackets.
 */
public record IscsiUrl(String host, int port, Optional<String> targetName, OptionalInt lun,
                       Optional<ChapCredentials> chap) {

    public static final int DEFAULT_PORT = 3260;
    private static final String SCHEME = "iscsi://";

    public IscsiUrl {
        if (host == null || host.isEmpty()) {
            throw new IllegalArgumentException("iSCSI URL needs a host");
        }
        if (port <= 0 || port > 65535) {
            throw new IllegalArgumentException("iSCSI port " + port + " is outside 1..65535");
        }
    }

    /** @throws IllegalArgumentException naming the part of the URL that is wrong */
    public static IscsiUrl parse(String url) {
        if (url == null || !url.regionMatches(true, 0, SCHEME, 0, SCHEME.length())) {
            throw new IllegalArgumentException("not an iSCSI URL (must start with iscsi://): " + redact(url));
        }
        String rest = url.substring(SCHEME.length());
        String query = null;
        int q = rest.indexOf('?');
        if (q >= 0) {
            query = rest.substring(q + 1);
            rest = rest.substring(0, q);
        }
        String user = null;
        String password = null;
        int at = rest.lastIndexOf('@');
        if (at >= 0) {
            String userInfo = rest.substring(0, at);
            rest = rest.substring(at + 1);
            int pct = userInfo.indexOf('%');
            user = decode(pct < 0 ? userInfo : userInfo.substring(0, pct));
            password = pct < 0 ? null : decode(userInfo.substring(pct + 1));
            if (user.isEmpty()) {
                throw new IllegalArgumentException("iSCSI URL has an empty user name before '@'");
            }
        }
        int slash = rest.indexOf('/');
        String authority = slash < 0 ? rest : rest.substring(0, slash);
        String path = slash < 0 ? "" : rest.substring(slash + 1);
        String host;
        int port = DEFAULT_PORT;
        if (authority.startsWith("[")) {
            int close = authority.indexOf(']');
            if (close < 0) {
                throw new IllegalArgumentException("iSCSI URL has an unclosed '[' in the IPv6 host: " + authority);
            }
            host = authority.substring(1, close);
            String after = authority.substring(close + 1);
            if (!after.isEmpty()) {
                if (!after.startsWith(":")) {
                    throw new IllegalArgumentException("unexpected text after the IPv6 host: " + after);
                }
                port = parsePort(after.substring(1));
            }
        } else {
            int colon = authority.lastIndexOf(':');
            host = colon < 0 ? authority : authority.substring(0, colon);
            if (colon >= 0) {
                port = parsePort(authority.substring(colon + 1));
            }
        }
        Optional<String> target = Optional.empty();
        OptionalInt lun = OptionalInt.empty();
        if (!path.isEmpty()) {
            int lunSlash = path.lastIndexOf('/');
            String iqn = lunSlash < 0 ? path : path.substring(0, lunSlash);
            if (lunSlash >= 0 && lunSlash < path.length() - 1) {
                String lunText = path.substring(lunSlash + 1);
                try {
                    int value = Integer.parseInt(lunText);
                    if (value < 0 || value > 16383) {
                        throw new IllegalArgumentException("LUN " + value + " is outside 0..16383");
                    }
                    lun = OptionalInt.of(value);
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("LUN '" + lunText + "' in iSCSI URL is not a number", e);
                }
            }
            if (!iqn.isEmpty()) {
                target = Optional.of(decode(iqn));
            }
        }
        String targetUser = null;
        String targetPassword = null;
        if (query != null && !query.isEmpty()) {
            for (String pair : query.split("&")) {
                int eq = pair.indexOf('=');
                String key = eq < 0 ? pair : pair.substring(0, eq);
                String value = eq < 0 ? "" : decode(pair.substring(eq + 1));
                switch (key) {
                    case "target_user" -> targetUser = value;
                    case "target_password" -> targetPassword = value;
                    default -> throw new IllegalArgumentException("unknown iSCSI URL option '" + key
                            + "' (known: target_user, target_password)");
                }
            }
        }
        Optional<ChapCredentials> chap = Optional.empty();
        if (user != null) {
            if (password == null) {
                throw new IllegalArgumentException("iSCSI URL names CHAP user '" + user + "' but no password (user%password@host)");
            }
            chap = Optional.of(targetUser == null
                    ? ChapCredentials.oneWay(user, password)
                    : ChapCredentials.mutual(user, password, targetUser, requireTargetPassword(targetPassword)));
        } else if (targetUser != null) {
            throw new IllegalArgumentException("iSCSI URL gives target_user for mutual CHAP without a user%password@ for one-way CHAP");
        }
        return new IscsiUrl(host, port, target, lun, chap);
    }

    /** The target name, or an error naming what the URL lacks for a login. */
    public String requireTarget() {
        return targetName.orElseThrow(() -> new IllegalArgumentException(
                "iSCSI URL " + this + " names no target (iscsi://host[:port]/target-iqn/lun)"));
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder(SCHEME);
        chap.ifPresent(c -> s.append(c.user()).append("%***@"));
        s.append(host.indexOf(':') >= 0 ? "[" + host + "]" : host).append(':').append(port);
        targetName.ifPresent(t -> s.append('/').append(t));
        lun.ifPresent(l -> s.append('/').append(l));
        return s.toString();
    }

    private static String requireTargetPassword(String password) {
        if (password == null) {
            throw new IllegalArgumentException("iSCSI URL gives target_user but no target_password for mutual CHAP");
        }
        return password;
    }

    private static int parsePort(String text) {
        try {
            int port = Integer.parseInt(text);
            if (port <= 0 || port > 65535) {
                throw new IllegalArgumentException("port " + port + " in iSCSI URL is outside 1..65535");
            }
            return port;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("port '" + text + "' in iSCSI URL is not a number", e);
        }
    }

    private static String decode(String s) {
        return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    /** Keeps a password out of error messages. */
    private static String redact(String url) {
        if (url == null) {
            return "null";
        }
        int at = url.lastIndexOf('@');
        int pct = url.indexOf('%');
        return at > 0 && pct >= 0 && pct < at ? url.substring(0, pct) + "%***" + url.substring(at) : url;
    }
}
