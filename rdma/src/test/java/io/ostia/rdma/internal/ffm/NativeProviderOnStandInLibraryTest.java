package io.ostia.rdma.internal.ffm;

import io.ostia.rdma.CmEventChannel;
import io.ostia.rdma.CmId;
import io.ostia.rdma.CompletionQueue;
import io.ostia.rdma.ProtectionDomain;
import io.ostia.rdma.RdmaDevice;
import io.ostia.rdma.RdmaProvider;
import io.ostia.rdma.VerbsContract;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
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
    private static Path library;

    @BeforeAll
    static void build() throws Exception {
        CToolchain.assumeAvailable();
        library = CToolchain.buildFakeRdma();
        provider = NativeProvider.withLibrary(library);
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

    /**
     * Our domains and queues hold one librdmacm reference on their device's context while any is
     * open (so that a removed device's context cannot close under them), and give it back with
     * the last: a reference kept would hold a removed device open for ever.
     */
    @Test
    void ourObjectsOnADeviceHoldOneLibrdmacmReferenceUntilTheLastCloses() {
        try (Arena arena = Arena.ofConfined()) {
            FakeVerbs fake = new FakeVerbs(library, arena);
            CmEventChannel channel = provider.createEventChannel(event -> { });
            CmId id = channel.createId();
            try {
                id.bind(listenAddress());
                RdmaDevice device = id.device();
                int before = fake.intCall("fake_device_references");
                ProtectionDomain pd = device.allocateProtectionDomain();
                CompletionQueue cq = device.createCompletionQueue(4);
                assertEquals(before + 1, fake.intCall("fake_device_references"), "one reference for both objects");
                pd.close();
                assertEquals(before + 1, fake.intCall("fake_device_references"), "held while the queue is open");
                cq.close();
                cq.close();
                assertEquals(before, fake.intCall("fake_device_references"), "given back with the last object");
            } finally {
                id.close();
                channel.close();
            }
        }
    }
}
