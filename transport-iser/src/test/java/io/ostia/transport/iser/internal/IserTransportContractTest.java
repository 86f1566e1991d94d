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
 * Ostia's embedded target's iSER portal as the peer. The VM lab runs it again on the native
 * provider and Soft-RoCE (a subclass naming another {@link #provider()} and {@link #host()}).
 */
class IserTransportContractTest extends TransportContract {

    private IscsiTarget target;

    @Override
    protected void startPeer() throws Exception {
        target = IscsiTarget.builder().iserPortal(host(), 0, RdmaProviders.byName(provider()))
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
        return new InetSocketAddress(host(), target.port());
    }

    @Override
    protected IscsiTransport newTransport(Duration releaseTimeout, Runnable afterLeaving) {
        return new IserTransport(IserTransportOptions.defaults().withProvider(provider())
                .withReleaseTimeout(releaseTimeout), afterLeaving);
    }

    /** The RDMA provider of both the transport and the target's portal. */
    protected String provider() {
        return RdmaProviders.LOOPBACK;
    }

    /** The address the target's iSER portal listens on. */
    protected String host() {
        return "127.0.0.1";
    }

    @Override
    protected String threadNamePrefix() {
        return "ostia-iser";
    }
}
