package io.ostia.api;

import java.util.List;

/**
 * A target reported by SendTargets discovery.
 *
 * @param name    the target's iSCSI name
 * @param portals where it can be reached; may be empty when the target lists none
 */
public record DiscoveredTarget(String name, List<Portal> portals) {

    public DiscoveredTarget {
        portals = List.copyOf(portals);
    }

    /**
     * A TargetAddress value: {@code host[:port],tpgt}.
     *
     * @param portalGroupTag the target portal group tag, -1 when absent
     */
    public record Portal(String host, int port, int portalGroupTag) {

        /** Parses a TargetAddress value such as {@code 127.0.0.1:3260,1} or {@code [::1]:3260,1}. */
        public static Portal parse(String value) {
            int comma = value.lastIndexOf(',');
            String address = comma < 0 ? value : value.substring(0, comma);
            int tpgt = -1;
            try {
                if (comma >= 0) {
                    tpgt = Integer.parseInt(value.substring(comma + 1));
                }
                String host = address;
                int port = IscsiUrl.DEFAULT_PORT;
                if (address.startsWith("[")) {
                    int close = address.indexOf(']');
                    if (close < 0) {
                        throw new IllegalArgumentException("unclosed '[' in TargetAddress " + value);
                    }
                    host = address.substring(1, close);
                    if (address.length() > close + 1) {
                        port = Integer.parseInt(address.substring(close + 2));
                    }
                } else if (address.indexOf(':') >= 0 && address.indexOf(':') == address.lastIndexOf(':')) {
                    host = address.substring(0, address.indexOf(':'));
                    port = Integer.parseInt(address.substring(address.indexOf(':') + 1));
                }
                return new Portal(host, port, tpgt);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("malformed TargetAddress '" + value + "'", e);
            }
        }

        @Override
        public String toString() {
            String h = host.indexOf(':') >= 0 ? "[" + host + "]" : host;
            return h + ":" + port + (portalGroupTag >= 0 ? "," + portalGroupTag : "");
        }
    }
}
