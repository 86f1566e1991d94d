package io.ostia.rdma.internal.ffm;

import io.ostia.rdma.RdmaProvider;
import io.ostia.rdma.VerbsContract;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The whole native provider (CM event thread, completion channel waits, every control-path
 * call and struct read) run through the verbs contract, against fakerdma.c standing in for
 * libibverbs and librdmacm: what real hardware would run, minus the hardware.
 */
class NativeProviderOnStandInLibraryTest extends VerbsContract {
    private static NativeProvider provider;

    @BeforeAll
    static void build() throws Exception {
        CToolchain.assumeAvailable();
        provider = NativeProvider.withLibrary(CToolchain.buildFakeRdma());
    }

    @Override
    protected RdmaProvider provider() {
        return provider;
    }

    @Override
    protected InetSocketAddress listenAddress() {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
    }

    @Test
    void theStandInIsAvailableWithItsDevice() {
        assertTrue(provider.isAvailable(), () -> String.valueOf(provider.unavailabilityCause()));
        assertEquals(List.of("fake0"), provider.deviceNames());
    }
}
