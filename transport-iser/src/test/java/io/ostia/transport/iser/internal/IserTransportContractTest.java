package io.ostia.transport.iser.internal;

import io.ostia.api.spi.IscsiTransport;
import io.ostia.rdma.RdmaProviders;
import io.ostia.target.IscsiTarget;
import io.ostia.transport.iser.IserTransportOptions;
import io.ostia.transport.lifecycle.TransportContract;
import java.net.InetSocketAddress;
import java.time.Duration;

/**
 * The shared SPI lifecycle contract against the iSER transport on the loopback fabric, with
 * Ostia's embedded target's iSER portal as the peer.
 */
class IserTransportContractTest extends TransportContract {

    private IscsiTarget target;

    @Override
    protected void startPeer() throws Exception {
        target = IscsiTarget.builder().iserPortal("127.0.0.1", 0, RdmaProviders.byName(RdmaProviders.LOOPBACK))
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
        return new IserTransport(IserTransportOptions.defaults().withProvider(RdmaProviders.LOOPBACK)
                .withReleaseTimeout(releaseTimeout), afterLeaving);
    }

    @Override
    protected String threadNamePrefix() {
        return "ostia-iser";
    }
}
