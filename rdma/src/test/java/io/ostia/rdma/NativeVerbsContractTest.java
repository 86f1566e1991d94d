package io.ostia.rdma;

import io.ostia.rdma.internal.ffm.NativeProvider;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;

import static org.junit.jupiter.api.Assertions.assertEquals;
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

    @Override
    protected boolean dataPathAllocatesNothing() {
        return true;
    }

    /**
     * The device watcher (which gets librdmacm to close a removed device's context) belongs to
     * its provider: binding to the device starts it, closing the provider ends it.
     */
    @Test
    void closingAProviderEndsItsDeviceWatcher() throws Exception {
        NativeProvider own = NativeProvider.newInstance();
        try (CmEventChannel channel = own.createEventChannel(event -> { }); CmId id = channel.createId()) {
            id.bind(listenAddress());
            assertEquals(1, threadsNamed(own.watcherName()), "a watcher while librdmacm holds the device's context");
        }
        own.close();
        assertEquals(0, threadsNamed(own.watcherName()), "no watcher after the provider's close");
        own.close(); // idempotent
    }

    private static long threadsNamed(String name) {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.isAlive() && t.getName().equals(name)).count();
    }
}
