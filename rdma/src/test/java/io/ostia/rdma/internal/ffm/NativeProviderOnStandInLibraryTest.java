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
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The whole native provider (CM event thread, completion channel waits, every control-path
 * call and struct read) run through the verbs contract, against fakerdma.c standing in for
 * libibverbs and librdmacm: what real hardware would run, minus the hardware.
 */
class NativeProviderOnStandInLibraryTest extends VerbsContract {
    /** Slices run before counting, for the JIT; then counted. */
    private static final int WARM_UP_SLICES = 20_000;
    private static final int SLICES = 20_000;
    /** Bytes over all counted slices: none per slice (one object per slice would be 320,000 and more). */
    private static final long SLICE_ALLOCATION_BOUND = 1_024;
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

    @Override
    protected boolean dataPathAllocatesNothing() {
        return true;
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
        try (NativeProvider provider = NativeProvider.withLibrary(library)) {
            onABoundId(provider, (fake, id) -> {
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
            });
        }
    }

    /**
     * Our domains and queues hold one librdmacm reference on their device's context while any is
     * open (so that a removed device's context cannot close under them), and give it back with
     * the last: a reference kept would hold a removed device open for ever.
     */
    @Test
    void ourObjectsOnADeviceHoldOneLibrdmacmReferenceUntilTheLastCloses() throws Exception {
        onABoundId(provider, (fake, id) -> {
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
        });
    }

    /**
     * The device watcher belongs to its provider: it starts when librdmacm opens a context for the
     * provider's ids, and closing the provider ends it (idempotently) and refuses new channels.
     */
    @Test
    void closingTheProviderEndsItsDeviceWatcher() throws Exception {
        NativeProvider provider = NativeProvider.withLibrary(library);
        assertEquals(0, watcherThreads(provider), "no watcher before any context");
        onABoundId(provider, (fake, id) -> assertEquals(1, watcherThreads(provider), "a watcher while a context is open"));
        assertThrows(IllegalStateException.class, () -> {
            try (CmEventChannel open = provider.createEventChannel(event -> { })) {
                provider.close();
            }
        }, "no close while a channel is open");
        assertEquals(1, watcherThreads(provider), "the refused close left the watcher");
        provider.close();
        assertEquals(0, watcherThreads(provider), "no watcher after the provider's close");
        provider.close();
        assertThrows(RdmaException.class, () -> provider.createEventChannel(event -> { }), "a closed provider makes no channel");
        assertEquals(0, watcherThreads(provider), "nothing started by the use of a closed provider");
    }

    /**
     * A device that left the list stays removed for the ids still on it (their events and closes
     * look it up again by its context's address); once librdmacm has closed that context, a device
     * added later may get a context at the same address (the stand-in's one context is at a fixed
     * address): that is a new, present device, not the removed one.
     */
    @Test
    void aContextAddressReusedByANewDeviceIsANewDevice() throws Exception {
        try (NativeProvider provider = NativeProvider.withLibrary(library);
             Arena arena = Arena.ofConfined()) {
            FakeVerbs fake = new FakeVerbs(library, arena);
            AtomicReference<RdmaDevice> removed = new AtomicReference<>();
            try {
                onABoundId(provider, (unused, id) -> {
                    removed.set(id.device());
                    fake.voidCall("fake_device_present", 0);
                    awaitTrue(removed.get()::isRemoved, "the device removed once it left the list");
                    assertSame(removed.get(), id.device(), "the id still on the removed context finds the removed device");
                    assertTrue(id.device().isRemoved(), "and it stays removed");
                });
                // The last id on it closed: librdmacm would close the context now, freeing its address.
                fake.voidCall("fake_device_present", 1);
                onABoundId(provider, (unused, id) -> {
                    RdmaDevice added = id.device();
                    assertNotSame(removed.get(), added, "a new context at the removed one's address is a new device");
                    assertFalse(added.isRemoved(), "the added device is present");
                    added.allocateProtectionDomain().close();
                });
            } finally {
                fake.voidCall("fake_device_present", 1);
            }
        }
    }

    /**
     * The device watcher's slice (five a second while a context is open) allocates nothing on the
     * heap while no device goes, async events drained (a domain open on the device) included:
     * counted by the ThreadMXBean over many slices run on this thread, which runs them as the
     * watcher does, once compiled (the warm-up): 0 B over 20,000 slices, and 0 over 2,000 after
     * 3,000 with -XX:TieredStopAtLevel=1; interpreted, the downcalls themselves still allocate
     * (about 390 B a slice over the first 500), which the real watcher outgrows within a minute
     * or so. Draining async events with the capturing read each slice cost about 495 B a slice.
     * A device that goes is still seen by the next slice.
     */
    @Test
    void aWatchSliceAllocatesNothingWhileNoDeviceGoes() throws Exception {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        assumeTrue(threads.isThreadAllocatedMemorySupported(), "this JVM cannot count the bytes a thread allocates");
        threads.setThreadAllocatedMemoryEnabled(true);
        try (NativeProvider provider = NativeProvider.withLibrary(library);
             Arena arena = Arena.ofConfined()) {
            onABoundId(provider, (fake, id) -> {
                RdmaDevice device = id.device();
                ProtectionDomain pd = device.allocateProtectionDomain(); // so the slice drains its async events
                try {
                    DeviceContexts.Watch slice = new DeviceContexts.Watch(arena);
                    boolean watching = true;
                    for (int i = 0; i < WARM_UP_SLICES; i++) {
                        watching &= provider.contexts.watchSlice(slice);
                    }
                    long before = threads.getCurrentThreadAllocatedBytes();
                    for (int i = 0; i < SLICES; i++) {
                        watching &= provider.contexts.watchSlice(slice);
                    }
                    long allocated = threads.getCurrentThreadAllocatedBytes() - before;
                    System.out.println("[watch] native: " + allocated + " B allocated over " + SLICES + " watch slices ("
                            + WARM_UP_SLICES + " warm-up)");
                    assertTrue(watching, "a listed device keeps the watcher watching");
                    assertTrue(allocated <= SLICE_ALLOCATION_BOUND, allocated + " B allocated over " + SLICES
                            + " slices; the bound is " + SLICE_ALLOCATION_BOUND);
                    assertFalse(device.isRemoved(), "nothing changed: the device is still there");

                    int acks = fake.intCall("fake_async_acks");
                    fake.voidCall("fake_async_event", 9); // IBV_EVENT_PORT_ACTIVE
                    provider.contexts.watchSlice(slice);
                    awaitTrue(() -> fake.intCall("fake_async_acks") == acks + 1, "an event still drained");
                    fake.voidCall("fake_device_present", 0);
                    provider.contexts.watchSlice(slice);
                    assertTrue(device.isRemoved(), "the slice after the device left the list removed it");
                } finally {
                    fake.voidCall("fake_device_present", 1);
                    pd.close();
                }
            });
        }
    }

    /** What a test does with an id bound to the stand-in's device (and the stand-in's controls). */
    private interface OnBoundId {
        void run(FakeVerbs fake, CmId id) throws Exception;
    }

    /** Runs {@code test} on an id of {@code provider} bound to the stand-in's device; closes id and channel. */
    private void onABoundId(NativeProvider provider, OnBoundId test) throws Exception {
        try (Arena arena = Arena.ofConfined()) {
            FakeVerbs fake = new FakeVerbs(library, arena);
            CmEventChannel channel = provider.createEventChannel(event -> { });
            try {
                CmId id = channel.createId();
                try {
                    id.bind(listenAddress());
                    test.run(fake, id);
                } finally {
                    id.close();
                }
            } finally {
                channel.close();
            }
        }
    }

    private static int watcherThreads(NativeProvider provider) {
        return (int) Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.isAlive() && t.getName().equals(provider.watcherName())).count();
    }

    private static void awaitTrue(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, what + " within 5 s");
            Thread.sleep(20);
        }
    }
}
