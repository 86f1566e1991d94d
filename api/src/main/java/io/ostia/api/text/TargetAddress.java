package io.ostia.api.text;

import java.net.InetSocketAddress;
import java.util.Objects;

/**
 * A TargetAddress value (RFC 7143 §13.8): {@code domainname[:port][,portal-group-tag]}, where an
 * IPv6 address is in brackets. The port defaults to 3260.
 */
public record TargetAddress(String host, int port, int portalGroupTag) {
    /** The IANA-registered iSCSI port. */
    public static final int DEFAULT_PORT = 3260;
    /** The portal group tag when the value gives none. */
    public static final int NO_PORTAL_GROUP_TAG = -1;

    public TargetAddress {
        Objects.requireNonNull(host, "host");
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " is outside 1..65535");
        }
    }

    /**
     * The address of a socket, named as the user wrote it ({@code host:port}, never
     * {@code InetSocketAddress}'s {@code host/ip:port}), with no portal group tag.
     */
    public static TargetAddress of(InetSocketAddress address) {
        return new TargetAddress(address.getHostString(), address.getPort(), NO_PORTAL_GROUP_TAG);
    }

    public static TargetAddress parse(String value) throws TextFormatException {
        String address = value;
        int tag = NO_PORTAL_GROUP_TAG;
        int comma = value.lastIndexOf(',');
        if (comma >= 0) {
            tag = number(value.substring(comma + 1), 0, value);
            address = value.substring(0, comma);
        }
        String host;
        String port = null;
        if (address.startsWith("[")) {
            int close = address.indexOf(']');
            if (close < 0) {
                throw malformed(value, "an IPv6 address without its closing bracket");
            }
            host = address.substring(1, close);
            String rest = address.substring(close + 1);
            if (!rest.isEmpty()) {
                if (!rest.startsWith(":")) {
                    throw malformed(value, "text after the IPv6 address");
                }
                port = rest.substring(1);
            }
        } else {
            int colon = address.lastIndexOf(':');
            host = colon < 0 ? address : address.substring(0, colon);
            port = colon < 0 ? null : address.substring(colon + 1);
        }
        if (host.isEmpty()) {
            throw malformed(value, "no host");
        }
        return new TargetAddress(host, port == null ? DEFAULT_PORT : number(port, 1, value), tag);
    }

    /** Ports and portal group tags are 16-bit; a port is at least 1. */
    private static int number(String text, int min, String value) throws TextFormatException {
        var number = TextCodec.parseNumber(text);
        if (number.isEmpty() || number.getAsLong() < min || number.getAsLong() > 65535) {
            throw malformed(value, "\"" + text + "\" is not a number in " + min + "..65535");
        }
        return (int) number.getAsLong();
    }

    private static TextFormatException malformed(String value, String why) {
        return new TextFormatException(Keys.TARGET_ADDRESS, "TargetAddress \"" + value + "\" is malformed: " + why);
    }

    @Override
    public String toString() {
        String hostPart = host.contains(":") ? "[" + host + "]" : host;
        return hostPart + ":" + port + (portalGroupTag == NO_PORTAL_GROUP_TAG ? "" : "," + portalGroupTag);
    }
}
