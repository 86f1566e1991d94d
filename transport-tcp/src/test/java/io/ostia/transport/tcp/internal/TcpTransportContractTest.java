package io.ostia.transport.tcp.internal;

import io.ostia.api.spi.IscsiTransport;
import io.ostia.target.IscsiTarget;
import io.ostia.transport.lifecycle.TransportContract;
import io.ostia.transport.tcp.TcpTransportOptions;
import java.net.InetSocketAddress;
import java.time.Duration;

/** The shared SPI lifecycle contract against the TCP transport, with Ostia's embedded target as the peer. */
class TcpTransportContractTest extends TransportContract {

    private IscsiTarget target;

    @Override
    protected void startPeer() throws Exception {
        target = IscsiTarget.builder().portal("127.0.0.1", 0)
                .target("iqn.2026-01.io.ostia:contract", t -> t.ramLun(1 << 20)).build().start();
    }

    @Override
    protected void stopPeer() {
        if (target != null) {
            target.close();
        }
    }

    @Override
    protected InetSocketAddress peer() {
        return new InetSocketAddress("127.0.0.1", target.port());
    }

    @Override
    protected IscsiTransport newTransport(Duration releaseTimeout, Runnable afterLeaving) {
        return new TcpTransport(TcpTransportOptions.defaults().withReleaseTimeout(releaseTimeout), afterLeaving);
    }

    @Override
    protected String threadNamePrefix() {
        return "ostia-tcp-";
    }
}
