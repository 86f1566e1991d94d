package io.ostia.rdma.internal.ffm;

import io.ostia.rdma.CmEventChannel;
import io.ostia.rdma.CmId;
import io.ostia.rdma.CompletionQueue;
import io.ostia.rdma.ProtectionDomain;
import io.ostia.rdma.RdmaDevice;
import io.ostia.rdma.RdmaException;
import io.ostia.rdma.RdmaProvider;
import io.ostia.rdma.VerbsContract;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
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
     * The device's async events are read and acknowledged while our objects are on it (libibverbs
     * waits for the acknowledgement of each event on a queue pair before destroying it), and a
     * fatal device error marks the device removed: it refuses new objects.
     */
    @Test
    void asyncEventsAreAcknowledgedAndAFatalOneRemovesTheDevice() throws Exception {
        // A provider of its own: the stand-in's one context stays usable for the other tests.
        NativeProvider provider = NativeProvider.withLibrary(library);
        try (Arena arena = Arena.ofConfined()) {
            FakeVerbs fake = new FakeVerbs(library, arena);
            CmEventChannel channel = provider.createEventChannel(event -> { });
            CmId id = channel.createId();
            try {
                id.bind(listenAddress());
                RdmaDevice device = id.device();
                ProtectionDomain pd = device.allocateProtectionDomain();
                try {
                    int acks = fake.intCall("fake_async_acks");
                    fake.voidCall("fake_async_event", 9); // IBV_EVENT_PORT_ACTIVE
                    awaitTrue(() -> fake.intCall("fake_async_acks") == acks + 1, "the port event acknowledged");
                    assertFalse(device.isRemoved(), "a port event does not remove the device");
                    fake.voidCall("fake_async_event", 8); // IBV_EVENT_DEVICE_FATAL
                    awaitTrue(device::isRemoved, "the device removed after DEVICE_FATAL");
                    assertEquals(acks + 2, fake.intCall("fake_async_acks"), "every event acknowledged");
                    assertThrows(RdmaException.class, device::allocateProtectionDomain);
                } finally {
                    pd.close();
                }
            } finally {
                id.close();
                channel.close();
            }
        }
    }

    private static void awaitTrue(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, what + " within 5 s");
            Thread.sleep(20);
        }
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
