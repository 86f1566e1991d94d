package io.ostia.transport.iser.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ostia.api.TransportException;
import io.ostia.api.pdu.LoginResponse;
import io.ostia.api.pdu.Pdu;
import io.ostia.api.pdu.TaskManagementRequest;
import io.ostia.api.spi.IscsiTransport;
import io.ostia.api.spi.StopMode;
import io.ostia.api.spi.TransportConnection;
import io.ostia.api.spi.TransportEndpoint;
import io.ostia.rdma.CmEventType;
import io.ostia.rdma.RdmaProviders;
import io.ostia.rdma.WorkCompletionOpcode;
import io.ostia.rdma.WorkCompletionStatus;
import io.ostia.rdma.loopback.LoopbackFabric;
import io.ostia.rdma.loopback.WorkMatch;
import io.ostia.transport.iser.IserTransportOptions;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.felix.framework.Felix;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;

/**
 * The races of the Linux iSER connection management that followed commit b73c3adabdb1
 * (reference notes, section C, races 1 to 13; each test's name starts with its number), on the
 * loopback fabric's CM and work-completion fault injection. Each test asserts the order of the
 * events it provokes through a {@link Journal} (what the transport logs, what the owner hears,
 * marks of its own), and its fixture checks at the end that every queue pair, memory region, CM
 * id, endpoint and iSER thread is gone.
 */
class IserRaceTest {

    private static final Duration RELEASE_TIMEOUT = Duration.ofMillis(2000);
    private IserFixture fixture;
    private LoopbackFabric fabric;
    private IserTransport transport;
    private Journal journal;
    private IserTestPeer peer;

    @TempDir
    Path storage;

    @BeforeEach
    void start() {
        fixture = new IserFixture(RELEASE_TIMEOUT);
        fabric = fixture.fabric;
        transport = fixture.transport;
        journal = fixture.journal;
    }

    @AfterEach
    void nothingIsLeft() throws Exception {
        fixture.peer = peer;
        fixture.close();
    }

    private TransportEndpoint connected() throws Exception {
        fixture.peer = peer;
        return fixture.connected();
    }

    private TransportConnection loggedIn(RecordingOwner owner, TransportEndpoint endpoint) throws Exception {
        return fixture.loggedIn(owner, endpoint, 8);
    }

    private RecordingOwner owner() {
        return new RecordingOwner(journal.events);
    }

    private IserTestPeer extraPeer() throws InterruptedException {
        IserTestPeer more = new IserTestPeer(fabric);
        fixture.peers.add(more);
        return more;
    }

    private static IserEndpoint iser(TransportEndpoint endpoint) {
        return (IserEndpoint) endpoint;
    }

    private static TaskManagementRequest lunReset(int tag) {
        return new TaskManagementRequest(true, TaskManagementRequest.Function.LOGICAL_UNIT_RESET, 0, tag,
                Pdu.RESERVED_TAG, 0, 0, 0, 0);
    }

    private void awaitState(TransportEndpoint endpoint, IserEndpoint.State state) throws InterruptedException {
        long deadline = System.nanoTime() + IserFixture.WAIT.toNanos();
        while (iser(endpoint).state() != state && System.nanoTime() < deadline) {
            Thread.sleep(2);
        }
        assertEquals(state, iser(endpoint).state());
    }

    // ---- 1: the state machine is serialised; CM handlers act only where their event makes sense ----

    /** 1: ESTABLISHED held back until after disconnect: the late event must not bring a released endpoint up. */
    @Test
    void race1EstablishedArrivingAfterDisconnectIsIgnored() throws Exception {
        peer = new IserTestPeer(fabric);
        TransportEndpoint endpoint = transport.connect(peer.address());
        peer.takeRequest();
        fabric.holdCmEvents(); // the ESTABLISHED events of the accept wait
        peer.acceptTaken();
        endpoint.disconnect();
        assertEquals(0, transport.openEndpoints(), "unbound: released on the spot");
        journal.note("ESTABLISHED delivered");
        assertTrue(fabric.releaseCmEvents(false) > 0, "ESTABLISHED was held");
        assertThrows(TransportException.class, () -> endpoint.poll(Duration.ofMillis(200)));
        assertNull(endpoint.localAddress(), "never up");
        assertEquals(IserEndpoint.State.DOWN, iser(endpoint).state());
        journal.assertOrder("released", "ESTABLISHED delivered");
    }

    /** 1, reversed: CM events delivered in reverse order around a disconnect leave only legal states. */
    @Test
    void race1CmEventsInReverseOrderAroundADisconnect() throws Exception {
        peer = new IserTestPeer(fabric);
        RecordingOwner owner = owner();
        TransportEndpoint endpoint = connected();
        TransportConnection connection = loggedIn(owner, endpoint);
        fabric.holdCmEvents();
        peer.disconnect();
        endpoint.disconnect();
        journal.note("events delivered reversed");
        fabric.releaseCmEvents(true);
        connection.stop(StopMode.TERMINATE);
        fixture.awaitReleased();
        connection.destroy();
        assertEquals(List.of(), owner.failures, "the DISCONNECTED that came after the disconnect is ignored");
        journal.assertOrder("events delivered reversed", "stopped", "released");
        journal.assertOrder("flushed", "released");
        assertEquals(0, journal.count("event handler failed"));
    }

    /**
     * 1, concurrently: ESTABLISHED, the peer's DISCONNECTED and the endpoint's disconnect, started
     * together, many times: the endpoint never reports up after its disconnect, ends DOWN, is
     * released once, and no CM handler fails.
     */
    @Test
    void race1EstablishedDisconnectedAndDisconnectConcurrently() throws Exception {
        for (int round = 0; round < 12; round++) {
            IserTestPeer target = extraPeer();
            TransportEndpoint endpoint = transport.connect(target.address());
            target.takeRequest();
            fabric.holdCmEvents();
            target.acceptTaken();
            boolean reversed = round % 2 == 0;
            race(() -> fabric.releaseCmEvents(reversed), target::disconnect, endpoint::disconnect);
            fabric.releaseCmEvents(false); // what the peer's disconnect produced before the release ran
            assertThrows(TransportException.class, () -> endpoint.poll(Duration.ofMillis(100)), "round " + round);
            assertEquals(IserEndpoint.State.DOWN, iser(endpoint).state(), "round " + round);
            journal.await("released", round + 1);
        }
        assertEquals(0, journal.count("event handler failed"), journal.events::toString);
        assertEquals(0, transport.openEndpoints());
    }

    /**
     * Runs the actions on platform threads of their own (the common pool may have one worker),
     * released together; returns when all ended (bounded), rethrowing the first failure.
     */
    private static void race(Runnable... actions) throws Exception {
        CyclicBarrier start = new CyclicBarrier(actions.length);
        List<CompletableFuture<Void>> ends = new ArrayList<>();
        for (Runnable action : actions) {
            CompletableFuture<Void> end = new CompletableFuture<>();
            Thread.ofPlatform().daemon(true).name("race").start(() -> {
                try {
                    together(start, action);
                    end.complete(null);
                } catch (Throwable e) {
                    end.completeExceptionally(e);
                }
            });
            ends.add(end);
        }
        for (CompletableFuture<Void> end : ends) {
            end.get(5, TimeUnit.SECONDS);
        }
    }

    private static void together(CyclicBarrier start, Runnable action) {
        try {
            start.await(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("the racers did not start together", e);
        }
        action.run();
    }

    // ---- 2: the release never waits forever ----

    /** 2(a): a bound connection whose stop never comes: its release waits the release timeout, then frees. */
    @Test
    void race2StopThatNeverComesIsBoundedByTheReleaseTimeout() throws Exception {
        peer = new IserTestPeer(fabric);
        RecordingOwner owner = owner();
        TransportEndpoint endpoint = connected();
        TransportConnection connection = loggedIn(owner, endpoint);
        endpoint.disconnect(); // bound: the release waits for a stop that never comes
        fixture.awaitReleased();
        TransportException refused = assertThrows(TransportException.class, () -> connection.sendPdu(IserFixture.login()));
        assertTrue(refused.getMessage().contains("disconnected"), refused::getMessage);
        journal.note("late stop");
        connection.stop(StopMode.TERMINATE); // after the release: touches nothing freed
        connection.destroy();
        journal.assertOrder("flushed", "stop wait timed out", "released", "late stop", "stopped");
        assertEquals(0, journal.count("flush wait timed out"));
    }

    /** 2(b): no DISCONNECTED or TIMEWAIT_EXIT ever comes: the release waits for stop and beacon only. */
    @Test
    void race2ReleaseDoesNotWaitForCmEventsThatNeverCome() throws Exception {
        peer = new IserTestPeer(fabric);
        TransportEndpoint endpoint = connected();
        TransportConnection connection = loggedIn(owner(), endpoint);
        fabric.discardCmEvents(EnumSet.of(CmEventType.DISCONNECTED, CmEventType.TIMEWAIT_EXIT));
        endpoint.disconnect();
        long started = System.nanoTime();
        connection.stop(StopMode.TERMINATE);
        fixture.awaitReleased();
        assertTrue(System.nanoTime() - started < RELEASE_TIMEOUT.toNanos(),
                "released by the stop and the beacon's flush, not by a timeout");
        connection.destroy();
        journal.assertOrder("stopped", "released");
        journal.assertOrder("flushed", "released");
        assertEquals(0, journal.count("stop wait timed out") + journal.count("flush wait timed out"));
    }

    /**
     * 2, counters out of step: the beacon's flush completion is lost, so "every flush consumed"
     * never comes; the release waits the release timeout for it, then frees.
     */
    @Test
    void race2FlushThatNeverComesIsBoundedByTheReleaseTimeout() throws Exception {
        peer = new IserTestPeer(fabric);
        TransportEndpoint endpoint = connected();
        TransportConnection connection = loggedIn(owner(), endpoint);
        fabric.dropCompletions(WorkMatch.any().on(iser(endpoint).queuePair()).kind(WorkCompletionOpcode.SEND));
        endpoint.disconnect();
        connection.stop(StopMode.TERMINATE);
        fixture.awaitReleased();
        connection.destroy();
        journal.assertOrder("stopped", "flush wait timed out", "released");
        assertEquals(0, journal.count("flushed"), "the beacon's completion was dropped");
    }

    /** 2(c) and 8: leaving with a queued release and a connection nobody stops. */
    @Test
    void race2LeavingFinishesAQueuedReleaseAndForceReleasesTheRest() throws Exception {
        peer = new IserTestPeer(fabric);
        RecordingOwner owner = owner();
        TransportEndpoint endpoint = connected();
        TransportConnection connection = loggedIn(owner, endpoint);
        endpoint.disconnect(); // bound: its release waits for a stop that the owner never makes
        transport.close();
        assertEquals(0, transport.openEndpoints());
        assertEquals(1, owner.failures.size(), "the connection nobody stopped was force-released");
        connection.destroy();
        // The release work's own stop wait may end first or the drain's: both are the release timeout.
        journal.assertOrder("refusing connects", "leaving", "connection force-released", "failed", "stopped",
                "unregistered");
        journal.assertOrder("released", "unregistered");
    }

    // ---- 3: device removal with nobody acting ----

    /**
     * 3: the device goes away under a bound connection while its owner does nothing: the owner
     * is told, the endpoint terminates without waiting for anyone, and the later stop and
     * disconnect touch nothing freed.
     */
    @Test
    void race3DeviceRemovalFailsTheConnectionAndTheLaterTeardownFreesEverything() throws Exception {
        String device = "iser-race-" + System.nanoTime();
        fabric.addDevice(device, InetAddress.getByName("127.0.0.77"));
        peer = new IserTestPeer(fabric, "127.0.0.77");
        RecordingOwner owner = owner();
        TransportEndpoint endpoint = connected();
        TransportConnection connection = loggedIn(owner, endpoint);
        journal.note("device removed");
        fabric.removeDevice(device);
        owner.awaitFailure();
        assertEquals(1, owner.failures.size(), owner.failures::toString);
        assertTrue(owner.failures.getFirst().getMessage().contains("DEVICE_REMOVAL")
                || owner.failures.getFirst().getMessage().contains("DISCONNECTED"), owner.failures.getFirst()::getMessage);
        assertEquals(IserEndpoint.State.TERMINATING, iser(endpoint).state(), "terminated by the event alone");
        journal.note("owner acts");
        connection.stop(StopMode.RECOVER);
        endpoint.disconnect();
        fixture.awaitReleased();
        connection.destroy();
        journal.assertOrder("device removed", "failed", "owner acts", "stopped", "released");
        assertEquals(0, journal.count("free failed"));
    }

    // ---- 4: task management racing the teardown ----

    /**
     * 4: task management requests keep being sent while the target disconnects: each is either
     * sent or refused with a TransportException naming why (Linux: -ENODEV), never another
     * failure, and once the owner heard of the failure every one is refused.
     */
    @Test
    void race4TaskManagementRacingADisconnectIsRefusedCleanly() throws Exception {
        peer = new IserTestPeer(fabric);
        RecordingOwner owner = owner();
        TransportEndpoint endpoint = connected();
        TransportConnection connection = fixture.started(owner, endpoint, 8);
        AtomicReference<Throwable> unexpected = new AtomicReference<>();
        CountDownLatch someSent = new CountDownLatch(10);
        CompletableFuture<TransportException> sender = CompletableFuture.supplyAsync(() -> {
            for (int tag = 1; tag < 100_000; tag++) {
                try {
                    connection.sendPdu(lunReset(tag));
                    someSent.countDown();
                } catch (TransportException e) {
                    journal.note("refused");
                    return e;
                } catch (RuntimeException e) {
                    unexpected.set(e);
                    return null;
                }
            }
            return null;
        });
        assertTrue(someSent.await(5, TimeUnit.SECONDS), "task management requests went out before the disconnect");
        journal.note("target disconnects");
        peer.disconnect();
        TransportException refused = sender.get(5, TimeUnit.SECONDS);
        assertNull(unexpected.get(), () -> "only TransportException, not " + unexpected.get());
        assertInstanceOf(TransportException.class, refused, "the sender ended refused");
        owner.awaitFailure();
        TransportException after = assertThrows(TransportException.class, () -> connection.sendPdu(lunReset(0)));
        assertTrue(after.getMessage().contains("TASK_MANAGEMENT_REQUEST"), after::getMessage);
        connection.stop(StopMode.RECOVER);
        endpoint.disconnect();
        fixture.awaitReleased();
        connection.destroy();
        journal.assertOrder("target disconnects", "refused");
        journal.assertOrder("failed", "stopped", "released");
    }

    // ---- 5: create a session or bind on an endpoint that is going down ----

    /** 5: a bind after the target disconnected, and a bind after disconnect, are refused and leave nothing. */
    @Test
    void race5BindOnADyingEndpointIsRefused() throws Exception {
        peer = new IserTestPeer(fabric);
        TransportEndpoint endpoint = connected();
        assertTrue(endpoint.poll(Duration.ZERO), "was up");
        journal.note("target disconnects");
        peer.disconnect();
        awaitState(endpoint, IserEndpoint.State.TERMINATING);
        TransportConnection connection = transport.createConnection(owner(), 8);
        TransportException refused = assertThrows(TransportException.class, () -> connection.bind(endpoint, true));
        assertTrue(refused.getMessage().contains("terminating"), refused::getMessage);
        journal.note("bind refused");

        IserTestPeer second = extraPeer();
        TransportEndpoint other = fixture.connected(second);
        other.disconnect();
        TransportException afterDisconnect = assertThrows(TransportException.class, () -> connection.bind(other, true));
        assertTrue(afterDisconnect.getMessage().contains("disconnected"), afterDisconnect::getMessage);

        endpoint.disconnect();
        fixture.awaitReleased();
        connection.destroy();
        journal.assertOrder("target disconnects", "bind refused", "released", "released");
        assertEquals(0, journal.count("stopped"), "nothing was ever bound");
    }

    /** 5, concurrently: bind and the target's disconnect started together; either way the teardown frees all. */
    @Test
    void race5BindRacingTheTargetsDisconnect() throws Exception {
        for (int round = 0; round < 8; round++) {
            IserTestPeer target = extraPeer();
            TransportEndpoint endpoint = fixture.connected(target);
            RecordingOwner owner = owner();
            TransportConnection connection = transport.createConnection(owner, 8);
            AtomicBoolean bound = new AtomicBoolean();
            race(() -> {
                try {
                    connection.bind(endpoint, true);
                    bound.set(true);
                } catch (TransportException e) {
                    assertTrue(e.getMessage().contains("terminating"), e::getMessage);
                }
            }, target::disconnect);
            if (bound.get()) {
                owner.awaitFailure();
                assertEquals(1, owner.failures.size(), "bound first: the owner hears of the disconnect, round " + round);
            } else {
                assertEquals(List.of(), owner.failures, "refused: nothing to tell, round " + round);
            }
            connection.stop(StopMode.TERMINATE);
            endpoint.disconnect();
            connection.destroy();
            journal.await("released", round + 1);
        }
        assertEquals(0, journal.count("event handler failed"));
    }

    // ---- 6: stop racing an owner call and device removal ----

    /**
     * 6: stop comes while an owner call (a PDU delivery, as a SCSI scan's) is in progress and the
     * device goes away: the stop waits for the owner call to end, no owner call follows it, and
     * the removal's failure is not reported to the owner that stopped.
     */
    @Test
    void race6StopWaitsForTheOwnerCallInProgressWhileTheDeviceGoes() throws Exception {
        String device = "iser-race-" + System.nanoTime();
        fabric.addDevice(device, InetAddress.getByName("127.0.0.78"));
        peer = new IserTestPeer(fabric, "127.0.0.78");
        CountDownLatch inCall = new CountDownLatch(1);
        CountDownLatch letGo = new CountDownLatch(1);
        RecordingOwner owner = new RecordingOwner(journal.events) {
            @Override
            public void pduReceived(Pdu pdu) {
                journal.note("owner call");
                inCall.countDown();
                try {
                    letGo.await(5, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                journal.note("owner call ends");
            }
        };
        TransportEndpoint endpoint = connected();
        TransportConnection connection = transport.createConnection(owner, 8);
        connection.bind(endpoint, true);
        connection.sendPdu(IserFixture.login());
        assertTrue(inCall.await(5, TimeUnit.SECONDS), "the Login Response reached the owner");
        CompletableFuture<Void> stop = CompletableFuture.runAsync(() -> connection.stop(StopMode.TERMINATE));
        journal.await("stop begins", 1);
        fabric.removeDevice(device);
        Thread.sleep(100);
        assertFalse(stop.isDone(), "the stop waits for the owner call in progress");
        letGo.countDown();
        stop.get(5, TimeUnit.SECONDS);
        endpoint.disconnect();
        fixture.awaitReleased();
        connection.destroy();
        journal.assertOrder("owner call", "owner call ends", "stopped", "released");
        assertEquals(List.of(), owner.failures, "the owner had stopped: the removal is not reported to it");
    }

    // ---- 7: the CM id is destroyed once ----

    /**
     * 7: DEVICE_REMOVAL while the release work waits for the stop, and again on a device whose
     * endpoint is already released: the id is closed once, by the release, without an error.
     */
    @Test
    void race7DeviceRemovalDuringAndAfterTheReleaseWork() throws Exception {
        String device = "iser-race-" + System.nanoTime();
        fabric.addDevice(device, InetAddress.getByName("127.0.0.79"));
        peer = new IserTestPeer(fabric, "127.0.0.79");
        RecordingOwner owner = owner();
        TransportEndpoint endpoint = connected();
        TransportConnection connection = loggedIn(owner, endpoint);
        endpoint.disconnect(); // the release work now waits for the stop
        journal.note("device removed");
        fabric.removeDevice(device); // DEVICE_REMOVAL finds the endpoint TERMINATING
        Thread.sleep(50);
        assertEquals(1, transport.openEndpoints(), "still waiting for the stop");
        connection.stop(StopMode.TERMINATE);
        fixture.awaitReleased();
        connection.destroy();

        String second = "iser-race-" + System.nanoTime();
        fabric.addDevice(second, InetAddress.getByName("127.0.0.80"));
        IserTestPeer late = new IserTestPeer(fabric, "127.0.0.80");
        fixture.peers.add(late);
        TransportEndpoint released = fixture.connected(late);
        released.disconnect();
        journal.note("device removed after release");
        fabric.removeDevice(second); // the id is closed: its DEVICE_REMOVAL reaches no endpoint
        Thread.sleep(50);
        journal.assertOrder("device removed", "stopped", "released", "released", "device removed after release");
        assertEquals(0, journal.count("free failed") + journal.count("event handler failed"), journal.events::toString);
        assertEquals(List.of(), owner.failures, "a disconnecting endpoint's DEVICE_REMOVAL is not a new failure");
    }

    // ---- 8: module exit with connections in every state ----

    /**
     * 8: the transport leaves with a live bound connection nobody stops, a bound connection whose
     * owner stops when told, an endpoint up but unbound, and a half-connected endpoint whose
     * target never accepted: owners are told first, the cooperative one drains, the rest are
     * force-released (each named), and the leave action runs last.
     */
    @Test
    void race8LeavingWithLiveBoundUnboundAndHalfConnectedConnections() throws Exception {
        peer = new IserTestPeer(fabric);
        RecordingOwner stubborn = owner();
        TransportEndpoint live = connected();
        TransportConnection liveConnection = loggedIn(stubborn, live);

        AtomicReference<TransportConnection> cooperating = new AtomicReference<>();
        AtomicReference<TransportEndpoint> cooperatingEndpoint = new AtomicReference<>();
        RecordingOwner cooperative = new RecordingOwner(journal.events) {
            @Override
            public void transportLeaving(IscsiTransport leaving) {
                super.transportLeaving(leaving);
                cooperatingEndpoint.get().disconnect();
                cooperating.get().stop(StopMode.TERMINATE);
            }
        };
        cooperatingEndpoint.set(fixture.connected(extraPeer()));
        cooperating.set(loggedIn(cooperative, cooperatingEndpoint.get()));

        TransportEndpoint unbound = fixture.connected(extraPeer());
        IserTestPeer silent = extraPeer();
        TransportEndpoint halfConnected = transport.connect(silent.address());
        silent.takeRequest(); // and never accepts
        assertFalse(halfConnected.poll(Duration.ofMillis(50)), "half-connected");
        assertEquals(4, transport.openEndpoints());

        transport.close();

        assertEquals(0, transport.openEndpoints());
        assertEquals(1, stubborn.failures.size(), "force-released: " + stubborn.failures);
        assertEquals(List.of(), cooperative.failures, "stopped when told: not force-released");
        assertThrows(TransportException.class, () -> transport.connect(peer.address()));
        journal.assertOrder("refusing connects", "leaving", "leaving", "connection force-released",
                "endpoint force-released", "endpoint force-released", "endpoint force-released", "unregistered");
        journal.assertOrder("released", "released", "released", "released", "unregistered");
        journal.assertOrder("stopped", "stopped", "unregistered");
        liveConnection.destroy();
        cooperating.get().destroy();
        assertThrows(TransportException.class, () -> halfConnected.poll(Duration.ZERO));
        assertThrows(TransportException.class, () -> unbound.poll(Duration.ZERO));
    }

    // ---- 9: completion errors with and without a bound connection ----

    /** 9: a send fails during login: the owner hears it once, with the status; the flushes that follow are not failures. */
    @Test
    void race9ACompletionErrorDuringLoginFailsTheConnectionOnce() throws Exception {
        peer = new IserTestPeer(fabric);
        RecordingOwner owner = owner();
        TransportEndpoint endpoint = connected();
        TransportConnection connection = transport.createConnection(owner, 8);
        connection.bind(endpoint, true);
        fabric.failWorkRequests(WorkMatch.any().on(iser(endpoint).queuePair()).kind(WorkCompletionOpcode.SEND).count(1),
                WorkCompletionStatus.LOCAL_PROTECTION_ERROR);
        connection.sendPdu(IserFixture.login());
        owner.awaitFailure();
        assertTrue(owner.failures.getFirst().getMessage().contains("LOCAL_PROTECTION_ERROR"),
                owner.failures.getFirst()::getMessage);
        connection.stop(StopMode.RECOVER);
        endpoint.disconnect();
        fixture.awaitReleased();
        connection.destroy();
        assertEquals(1, owner.failures.size(), "reported once: " + owner.failures);
        // Stopped, then disconnected: unbound, released on the spot without waiting for the flush.
        journal.assertOrder("failed", "stopped", "released");
    }

    /**
     * 9: a failed completion that arrives after the connection was stopped (unbound) is not a
     * failure of anyone's: no owner call after the stop, and the endpoint still releases.
     */
    @Test
    void race9ACompletionErrorAfterUnbindReachesNoOwner() throws Exception {
        peer = new IserTestPeer(fabric);
        RecordingOwner owner = owner();
        TransportEndpoint endpoint = connected();
        TransportConnection connection = loggedIn(owner, endpoint);
        WorkMatch nextSend = WorkMatch.any().on(iser(endpoint).queuePair()).kind(WorkCompletionOpcode.SEND).count(1);
        fabric.failWorkRequests(nextSend, WorkCompletionStatus.REMOTE_ACCESS_ERROR);
        fabric.holdCompletions(nextSend);
        connection.sendPdu(IserFixture.login()); // fails, and its completion is held
        connection.stop(StopMode.TERMINATE);
        journal.note("failed completion delivered");
        assertEquals(1, fabric.releaseCompletions(false));
        endpoint.disconnect();
        fixture.awaitReleased();
        connection.destroy();
        assertEquals(List.of(), owner.failures, "no owner call after the stop");
        journal.assertOrder("stopped", "failed completion delivered", "released");
    }

    // ---- 10: module init error paths ----

    /** 10: module init fails (the native provider has no device): nothing is left behind. */
    @Test
    void race10AFailedProbeLeavesNothing() {
        io.ostia.rdma.RdmaProvider nativeProvider = RdmaProviders.byName(RdmaProviders.NATIVE);
        org.junit.jupiter.api.Assumptions.assumeFalse(nativeProvider.isAvailable() && !nativeProvider.deviceNames().isEmpty(),
                "this machine has a native RDMA device: module init cannot be made to fail this way");
        int threads = Thread.activeCount();
        assertThrows(RuntimeException.class, () -> new IserTransport(IserTransportOptions.defaults()
                .withProvider(RdmaProviders.NATIVE), () -> { }));
        assertTrue(Thread.activeCount() <= threads + 1, "no thread started by a failed init");
    }

    /**
     * 10: the transport is made but its registration fails (the bundle's context is no longer
     * valid): activation must close the transport it made, so no CM event channel, thread or
     * other RDMA object outlives the failed activation (Linux leaked its release workqueue).
     */
    @Test
    void race10AFailedRegistrationClosesTheTransportItMade() throws Exception {
        Felix framework = new Felix(Map.of(Constants.FRAMEWORK_STORAGE, storage.toString(),
                Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT));
        framework.start();
        BundleContext stale = framework.getBundleContext();
        framework.stop();
        framework.waitForStop(10_000);
        List<String> objectsBefore = fabric.openObjects();
        List<String> channelThreads = loopbackCmThreads();
        new IserTransportComponent(stale, IserTransportComponentTest.config(RdmaProviders.LOOPBACK));
        assertEquals(objectsBefore, fabric.openObjects(), "the CM event channel of the unregistered transport is closed");
        long deadline = System.nanoTime() + IserFixture.WAIT.toNanos();
        while (!loopbackCmThreads().equals(channelThreads) && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(channelThreads, loopbackCmThreads(), "its CM event thread ended");
    }

    private static List<String> loopbackCmThreads() {
        return Thread.getAllStackTraces().keySet().stream().map(Thread::getName)
                .filter(name -> name.startsWith("ostia-rdma-loopback-cm")).sorted().toList();
    }

    // ---- 11: both teardown orders, and stops from two sides ----

    /** 11: disconnect before stop (current iscsid) and stop before disconnect (older iscsid) both leave nothing. */
    @Test
    void race11BothTeardownOrdersLeaveNothing() throws Exception {
        peer = new IserTestPeer(fabric);
        TransportEndpoint first = connected();
        TransportConnection disconnectFirst = loggedIn(owner(), first);
        journal.note("disconnect, then stop");
        first.disconnect();
        disconnectFirst.stop(StopMode.TERMINATE);
        disconnectFirst.destroy();
        fixture.awaitReleased();

        IserTestPeer second = extraPeer();
        TransportEndpoint other = fixture.connected(second);
        TransportConnection stopFirst = loggedIn(owner(), other);
        journal.note("stop, then disconnect");
        stopFirst.stop(StopMode.TERMINATE);
        stopFirst.destroy();
        assertEquals(1, transport.openEndpoints(), "stopped but not disconnected: the endpoint stays");
        other.disconnect();
        assertEquals(0, transport.openEndpoints(), "no longer bound: released on the spot");
        journal.assertOrder("disconnect, then stop", "stopped", "released", "stop, then disconnect", "stopped", "released");
    }

    /**
     * 11: a failure-driven stop (the owner stops from its connectionFailed, on the completion
     * thread, as the kernel's cleanup work does) races a user stop and the disconnect: the
     * binding is retired once and nothing waits for itself.
     */
    @Test
    void race11FailureDrivenStopRacesAUserStop() throws Exception {
        peer = new IserTestPeer(fabric);
        AtomicReference<TransportConnection> self = new AtomicReference<>();
        CountDownLatch stoppedFromCallback = new CountDownLatch(1);
        RecordingOwner owner = new RecordingOwner(journal.events) {
            @Override
            public void connectionFailed(Throwable cause) {
                super.connectionFailed(cause);
                self.get().stop(StopMode.RECOVER);
                stoppedFromCallback.countDown();
            }
        };
        TransportEndpoint endpoint = connected();
        self.set(loggedIn(owner, endpoint));
        race(() -> {
            self.get().stop(StopMode.TERMINATE);
            endpoint.disconnect();
        }, peer::disconnect);
        fixture.awaitReleased();
        self.get().destroy();
        assertEquals(1, journal.count("stopped"), "retired once: " + journal.events);
        journal.assertOrder("stopped", "released");
        stoppedFromCallback.await(100, TimeUnit.MILLISECONDS); // if the failure won, its stop returned at once
    }

    // ---- 12: binding twice ----

    /**
     * 12: a second bind without a stop is refused (to the same endpoint and to another) and
     * leaks nothing; after the stop the same connection binds a new endpoint, as recovery does.
     */
    @Test
    void race12BindingTwiceIsRefusedAndLeaksNothing() throws Exception {
        peer = new IserTestPeer(fabric);
        RecordingOwner owner = owner();
        TransportEndpoint first = connected();
        TransportConnection connection = loggedIn(owner, first);
        IserTestPeer second = extraPeer();
        TransportEndpoint other = fixture.connected(second);
        int registrations = iser(other).registrationsMade();

        TransportException again = assertThrows(TransportException.class, () -> connection.bind(first, true));
        assertTrue(again.getMessage().contains("already bound"), again::getMessage);
        TransportException elsewhere = assertThrows(TransportException.class, () -> connection.bind(other, true));
        assertTrue(elsewhere.getMessage().contains("already bound"), elsewhere::getMessage);
        assertEquals(registrations, iser(other).registrationsMade(), "the refused bind registered nothing");
        journal.note("second bind refused");

        TransportConnection intruder = transport.createConnection(owner(), 8);
        intruder.bind(other, true);
        connection.stop(StopMode.RECOVER);
        TransportException carried = assertThrows(TransportException.class, () -> intruder.bind(first, true));
        assertTrue(carried.getMessage().contains("already bound"), carried::getMessage);
        intruder.stop(StopMode.TERMINATE);
        TransportException reused = assertThrows(TransportException.class, () -> connection.bind(other, true));
        assertTrue(reused.getMessage().contains("terminating"), "its stop terminated it: " + reused.getMessage());
        first.disconnect();
        other.disconnect();
        fixture.awaitReleased();

        IserTestPeer third = extraPeer();
        TransportEndpoint fresh = fixture.connected(third);
        connection.bind(fresh, true); // recovery: the same connection on a new endpoint
        connection.sendPdu(IserFixture.login());
        assertInstanceOf(LoginResponse.class, owner.next());
        connection.destroy();
        intruder.destroy();
        fresh.disconnect();
        fixture.awaitReleased();
        journal.assertOrder("second bind refused", "stopped", "stopped", "released", "released", "stopped", "released");
    }

    // ---- 13: no wait for a CM event under the state lock ----

    /** 13: a disconnect never waits for a CM event, even while every event is held and a poll waits. */
    @Test
    void race13DisconnectReturnsWhileCmEventsAreHeld() throws Exception {
        peer = new IserTestPeer(fabric);
        fabric.holdCmEvents();
        TransportEndpoint endpoint = transport.connect(peer.address());
        CompletableFuture<Boolean> polling = CompletableFuture.supplyAsync(() -> {
            try {
                return endpoint.poll(IserFixture.WAIT);
            } catch (TransportException e) {
                return false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        });
        long started = System.nanoTime();
        endpoint.disconnect();
        journal.note("disconnect returned");
        assertTrue(System.nanoTime() - started < TimeUnit.MILLISECONDS.toNanos(500), "disconnect did not wait");
        assertEquals(false, polling.get(1, TimeUnit.SECONDS), "the poll ends with the disconnect");
        journal.note("events delivered");
        fabric.releaseCmEvents(false);
        journal.assertOrder("released", "disconnect returned", "events delivered");
    }
}
