package io.ostia.rdma;

import org.junit.jupiter.api.BeforeEach;

import java.net.InetSocketAddress;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The contract on real hardware. Needs a device, and {@code -Dostia.rdma.test.address=IP} naming
 * an address of an RDMA-capable interface (for Soft-RoCE, the address of the rxe netdev).
 */
class NativeVerbsContractTest extends VerbsContract {
    @BeforeEach
    void requireDevice() {
        RdmaProvider p = RdmaProviders.byName(RdmaProviders.NATIVE);
        assumeTrue(p.isAvailable(), () -> "native RDMA unavailable: " + p.unavailabilityCause().getMessage());
        assumeTrue(System.getProperty("ostia.rdma.test.address") != null,
                "set -Dostia.rdma.test.address to an address of an RDMA interface to run the native contract");
    }

    @Override
    protected RdmaProvider provider() {
        return RdmaProviders.byName(RdmaProviders.NATIVE);
    }

    @Override
    protected InetSocketAddress listenAddress() {
        return new InetSocketAddress(System.getProperty("ostia.rdma.test.address"), 0);
    }
}
