package io.ostia.transport.iser.internal;

import io.ostia.lab.Rxe;
import io.ostia.rdma.RdmaProviders;
import org.junit.jupiter.api.BeforeEach;

/**
 * Ostia's iSER initiator against Ostia's iSER target on the lab guest's Soft-RoCE device:
 * discovery, login, verified writes and reads with the full command window in flight, logout, and
 * every native object freed. In this package because the loopback test it reruns is package-private.
 */
class IserEndToEndOnRxeInGuest extends IserEndToEndTest {

    @BeforeEach
    void requireRxe() {
        Rxe.address();
    }

    @Override
    String provider() {
        return RdmaProviders.NATIVE;
    }

    @Override
    String host() {
        return Rxe.address();
    }
}
