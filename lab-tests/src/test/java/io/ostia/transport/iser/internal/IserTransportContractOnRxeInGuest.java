package io.ostia.transport.iser.internal;

import io.ostia.lab.Rxe;
import io.ostia.rdma.RdmaProviders;

/**
 * The transport SPI's lifecycle contract on iSER over the native provider and the lab guest's
 * Soft-RoCE device, with Ostia's target's iSER portal on rxe0's address as the peer. In this
 * package because the loopback suite it reruns is package-private.
 */
class IserTransportContractOnRxeInGuest extends IserTransportContractTest {

    @Override
    protected void startPeer() throws Exception {
        Rxe.address();
        super.startPeer();
    }

    @Override
    protected String provider() {
        return RdmaProviders.NATIVE;
    }

    @Override
    protected String host() {
        return Rxe.address();
    }
}
