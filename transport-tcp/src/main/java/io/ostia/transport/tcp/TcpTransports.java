package io.ostia.transport.tcp;

import io.ostia.api.spi.IscsiTransport;
import io.ostia.transport.tcp.internal.TcpTransport;

/** Creates TCP transports outside OSGi. Close each one when done: closing is its module exit. */
public final class TcpTransports {

    private TcpTransports() {
    }

    /** A TCP transport with {@link TcpTransportOptions#defaults()}. */
    public static IscsiTransport create() {
        return create(TcpTransportOptions.defaults());
    }

    public static IscsiTransport create(TcpTransportOptions options) {
        return new TcpTransport(options, () -> { });
    }
}
