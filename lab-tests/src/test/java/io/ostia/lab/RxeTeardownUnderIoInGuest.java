package io.ostia.lab;

import io.ostia.api.BlockDevice;
import io.ostia.api.Session;
import io.ostia.api.SessionOptions;
import io.ostia.initiator.ClosableInitiator;
import io.ostia.initiator.Initiators;
import io.ostia.rdma.RdmaProvider;
import io.ostia.rdma.RdmaProviders;
import io.ostia.target.IscsiTarget;
import io.ostia.testing.ExternalTool;
import io.ostia.transport.iser.IserTransportOptions;
import io.ostia.transport.iser.internal.IserTransport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The RDMA stack taken away under I/O, Ostia's iSER initiator and Ostia's iSER target both on the
 * lab guest's Soft-RoCE device: {@code rdma link delete rxe0} (the kernel waits, inside the
 * command, until every user has closed the device: every object and librdmacm's context) and
 * {@code ip link set dummy0 down}. The command must return, the I/O must end (no data read back
 * wrong meanwhile), the session, initiator, transport and target must close, each within a
 * bound, and no native RDMA object (queue pair, region, CM id, ...) may be left. Then rxe0 is
 * deleted (if still there, which waits for this JVM to let go of it too) and added again, and the
 * same JVM must log in over the new device and move verified data. The suite runs after every
 * other one.
 */
@Order(InGuestLauncher.LAST)
class RxeTeardownUnderIoInGuest {

    private static final String TARGET = "iqn.2026-12.io.ostia.lab:teardown";
    private static final String INITIATOR = "iqn.2026-12.io.ostia.lab:teardown-initiator";
    /**
     * A second device, never used: librdmacm (rdma-core 44, and master as of 2026-08) cannot let
     * go of a removed device's context when no device at all is left (its sync_devices_list gives
     * up with ENODEV before comparing lists), so removing the only device waits for the JVM to
     * exit. With this one listed, rxe0's removal completes while the JVM runs.
     */
    private static final String SPARE_DEVICE = "rxe1";
    private static final String SPARE_NETDEV = "dummy1";
    private static final int WORKERS = 8;
    private static final int IO = 64 * 1024;
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(15);
    private static final Duration REPLACEMENT_TIMEOUT = Duration.ofSeconds(5);
    /**
     * Bound on the I/O's end after the fault: a command's timeout plus the session's replacement
     * timeout (the longest the initiator may keep a command alive), plus 10 s of slack for the
     * guest's emulated CPUs.
     */
    private static final Duration IO_END_BOUND = COMMAND_TIMEOUT.plus(REPLACEMENT_TIMEOUT).plusSeconds(10);
    /** Bound on each device command (the kernel's removal waits for every user) and on each close. */
    private static final Duration BOUND = Duration.ofSeconds(60);

    private String address;
    private RdmaProvider provider;
    private List<String> objectsBefore;
    private IscsiTarget target;
    private IserTransport transport;
    private ClosableInitiator initiator;
    private Session session;

    @BeforeAll
    static void addSpareDevice() {
        Rxe.address();
        run(List.of("ip", "link", "add", SPARE_NETDEV, "type", "dummy"));
        run(List.of("ip", "link", "set", SPARE_NETDEV, "up"));
        run(List.of("rdma", "link", "add", SPARE_DEVICE, "type", "rxe", "netdev", SPARE_NETDEV));
    }

    @AfterAll
    static void removeSpareDevice() {
        if (RdmaProviders.byName(RdmaProviders.NATIVE).deviceNames().contains(SPARE_DEVICE)) {
            run(List.of("rdma", "link", "delete", SPARE_DEVICE));
            run(List.of("ip", "link", "delete", SPARE_NETDEV));
        }
    }

    @BeforeEach
    void loginOverRxe() throws Exception {
        address = Rxe.address();
        provider = Rxe.provider();
        // After a test before (or the guest's init) brought the device up.
        Rxe.awaitUsable(address, BOUND);
        objectsBefore = provider.openObjects();
        login();
    }

    private void login() throws Exception {
        target = IscsiTarget.builder().iserPortal(address, 0, provider)
                .target(TARGET, t -> t.ramLun((long) WORKERS * IO)).build().start();
        transport = new IserTransport(IserTransportOptions.defaults().withProvider(RdmaProviders.NATIVE)
                .withReleaseTimeout(Duration.ofSeconds(5)), () -> { });
        initiator = Initiators.create(List.of(transport));
        session = initiator.login(SessionOptions.builder().portal(address, target.port()).targetName(TARGET)
                .initiatorName(INITIATOR).transports("iser").queueDepth(WORKERS)
                .replacementTimeout(REPLACEMENT_TIMEOUT).commandTimeout(COMMAND_TIMEOUT).build());
    }

    /** Only after a failure: the tests put the device back themselves. */
    @AfterEach
    void cleanUp() {
        if (provider == null) {
            return;
        }
        try {
            closeAll();
        } finally {
            run(List.of("ip", "link", "set", Rxe.NETDEV, "up"));
            if (!provider.deviceNames().contains(Rxe.DEVICE)) {
                run(List.of("rdma", "link", "add", Rxe.DEVICE, "type", "rxe", "netdev", Rxe.NETDEV));
            }
        }
    }

    @Test
    void deletingTheDeviceUnderIoEndsEverythingAndFreesEveryObject() throws Exception {
        underIo("rdma", "link", "delete", Rxe.DEVICE);
        aNewDeviceServesTheSameJvm();
    }

    @Test
    void takingTheNetdevDownUnderIoEndsEverythingAndFreesEveryObject() throws Exception {
        underIo("ip", "link", "set", Rxe.NETDEV, "down");
        aNewDeviceServesTheSameJvm();
    }

    /**
     * rxe0 deleted (if the fault left it: once a connect has failed while dummy0 was down, rxe0
     * reaches no listener any more, for any process, seen with rping too) and added again; then a
     * new target, transport and session of this JVM move verified data over it and close.
     */
    private void aNewDeviceServesTheSameJvm() throws Exception {
        run(List.of("ip", "link", "set", Rxe.NETDEV, "up"));
        if (provider.deviceNames().contains(Rxe.DEVICE)) {
            long started = System.nanoTime();
            run(List.of("rdma", "link", "delete", Rxe.DEVICE));
            System.out.printf("[teardown] rdma link delete %s (idle) returned after %d ms%n", Rxe.DEVICE,
                    (System.nanoTime() - started) / 1_000_000);
        }
        run(List.of("rdma", "link", "add", Rxe.DEVICE, "type", "rxe", "netdev", Rxe.NETDEV));
        Rxe.awaitUsable(address, BOUND);
        login();
        BlockDevice lun = session.open(0);
        try (Arena arena = Arena.ofShared()) {
            MemorySegment out = arena.allocate(IO, 4096);
            MemorySegment in = arena.allocate(IO, 4096);
            for (int b = 0; b < IO; b += 4) {
                out.set(ValueLayout.JAVA_INT_UNALIGNED, b, 0x5eed0000 ^ b);
            }
            lun.writeAsync(0, out).get(BOUND.toSeconds(), TimeUnit.SECONDS);
            lun.readAsync(0, in).get(BOUND.toSeconds(), TimeUnit.SECONDS);
            assertEquals(-1, in.mismatch(out), "the bytes written over the new device read back");
        }
        closeAll();
        assertNoObjectLeft();
    }

    private static void run(List<String> command) {
        ExternalTool.run(BOUND, command).requireSuccess();
    }

    private void underIo(String... fault) throws Exception {
        BlockDevice lun = session.open(0);
        AtomicInteger done = new AtomicInteger();
        AtomicReference<String> wrongData = new AtomicReference<>();
        AtomicReference<Throwable> ioFailure = new AtomicReference<>();
        List<Thread> workers = new ArrayList<>();
        try (Arena arena = Arena.ofShared()) {
            for (int w = 0; w < WORKERS; w++) {
                long lba = (long) w * IO / lun.blockSize();
                MemorySegment out = arena.allocate(IO, 4096);
                MemorySegment in = arena.allocate(IO, 4096);
                int worker = w;
                workers.add(Thread.ofPlatform().name("teardown-io-" + w).start(() -> {
                    for (int round = 0; ; round++) {
                        int seed = worker << 24 | round;
                        for (int b = 0; b < IO; b += 4) {
                            out.set(ValueLayout.JAVA_INT_UNALIGNED, b, seed ^ b);
                        }
                        try {
                            lun.writeAsync(lba, out).get(BOUND.toSeconds(), TimeUnit.SECONDS);
                            lun.readAsync(lba, in).get(BOUND.toSeconds(), TimeUnit.SECONDS);
                        } catch (ExecutionException | TimeoutException | InterruptedException | RuntimeException e) {
                            ioFailure.compareAndSet(null, e);
                            return;
                        }
                        if (in.mismatch(out) >= 0) {
                            wrongData.compareAndSet(null, "worker " + worker + " round " + round + " read back other bytes");
                            return;
                        }
                        done.incrementAndGet();
                    }
                }));
            }
            long deadline = System.nanoTime() + BOUND.toNanos();
            while (done.get() < 4 * WORKERS && ioFailure.get() == null && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertNull(ioFailure.get(), "I/O failed before the fault");
            assertTrue(done.get() >= 4 * WORKERS, "I/O under way before the fault: " + done.get() + " round trips");

            long started = System.nanoTime();
            ExternalTool.Result result = ExternalTool.run(BOUND, List.of(fault));
            System.out.printf("[teardown] %s returned %d after %d ms with %d round trips done%n", String.join(" ", fault),
                    result.exitCode(), (System.nanoTime() - started) / 1_000_000, done.get());
            result.requireSuccess();

            for (Thread worker : workers) {
                if (!worker.join(BOUND)) {
                    fail(worker.getName() + " still in I/O " + BOUND + " after " + String.join(" ", fault) + ": "
                            + List.of(worker.getStackTrace()));
                }
            }
            long ioEnded = (System.nanoTime() - started) / 1_000_000;
            System.out.printf("[teardown] I/O ended %d ms after the fault: %s%n", ioEnded, ioFailure.get());
            assertTrue(ioEnded <= IO_END_BOUND.toMillis(), "I/O ended " + ioEnded + " ms after the fault; bound " + IO_END_BOUND);
            assertNull(wrongData.get(), "no data read back wrong");
            assertTrue(ioFailure.get() != null, "I/O failed once the RDMA stack was gone");
            closeAll();
            System.out.printf("[teardown] everything closed %d ms after the fault%n", (System.nanoTime() - started) / 1_000_000);
        }
        assertNoObjectLeft();
    }

    private void assertNoObjectLeft() throws InterruptedException {
        long deadline = System.nanoTime() + BOUND.toNanos();
        while (!provider.openObjects().equals(objectsBefore) && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertEquals(objectsBefore, provider.openObjects(), "every native RDMA object freed");
    }

    /** Closes the session, the initiator, the transport and the target, each within the bound. */
    private void closeAll() {
        List<Throwable> problems = new ArrayList<>();
        bounded("session close", session, problems, () -> session.close());
        session = null;
        bounded("initiator close", initiator, problems, () -> initiator.close());
        initiator = null;
        bounded("transport close", transport, problems, () -> transport.close());
        transport = null;
        bounded("target close", target, problems, () -> target.close());
        target = null;
        if (!problems.isEmpty()) {
            AssertionError error = new AssertionError("closing did not end cleanly: " + problems);
            problems.forEach(error::addSuppressed);
            throw error;
        }
    }

    private interface Step {
        void run() throws Exception;
    }

    private static void bounded(String what, Object subject, List<Throwable> problems, Step step) {
        if (subject == null) {
            return;
        }
        CompletableFuture<Void> running = CompletableFuture.runAsync(() -> {
            try {
                step.run();
            } catch (Exception e) {
                throw new IllegalStateException(what + " failed", e);
            }
        }, runnable -> Thread.ofPlatform().name("teardown-" + what.replace(' ', '-')).start(runnable));
        try {
            running.get(BOUND.toSeconds(), TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            problems.add(new AssertionError(what + " hung for " + BOUND));
        } catch (ExecutionException e) {
            problems.add(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            problems.add(e);
        }
    }
}
