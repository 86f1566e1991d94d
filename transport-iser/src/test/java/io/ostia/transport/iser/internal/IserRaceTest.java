package io.ostia.transport.iser.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ostia.api.TransportException;
import io.ostia.api.spi.StopMode;
import io.ostia.api.spi.TransportConnection;
import io.ostia.api.spi.TransportEndpoint;
import io.ostia.rdma.CmEventType;
import io.ostia.rdma.RdmaProviders;
import io.ostia.rdma.loopback.LoopbackFabric;
import io.ostia.transport.iser.IserTransportOptions;
import java.net.InetAddress;
import java.time.Duration;
import java.util.EnumSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The races of the Linux iSER connection management that followed commit b73c3adabdb1
 * (reference notes, section C), on the loopback fabric's CM fault injection. Each test checks
 * that the transport ends with every RDMA object, endpoint and thread gone.
 */
class IserRaceTest {

    private static final Duration RELEASE_TIMEOUT = Duration.ofMillis(2000);
    private IserFixture fixture;
    private LoopbackFabric fabric;
    private IserTransport transport;
    private IserTestPeer peer;

    @BeforeEach
    void start() {
        fixture = new IserFixture(RELEASE_TIMEOUT);
        fabric = fixture.fabric;
        transport = fixture.transport;
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

    private void awaitReleased() throws InterruptedException {
        fixture.awaitReleased();
    }

    /** C.1: ESTABLISHED held back until after disconnect: the late event must not bring a released endpoint up. */
    @Test
    void establishedArrivingAfterDisconnectIsIgnored() throws Exception {
        peer = new IserTestPeer(fabric);
        TransportEndpoint endpoint = transport.connect(peer.address());
        peer.takeRequest();
        fabric.holdCmEvents(); // the ESTABLISHED events of the accept wait
        peer.acceptTaken();
        endpoint.disconnect();
        assertEquals(0, transport.openEndpoints(), "unbound: released on the spot");
        fabric.releaseCmEvents(false);
        assertThrows(TransportException.class, () -> endpoint.poll(Duration.ofMillis(200)));
        assertEquals(null, endpoint.localAddress(), "never up");
    }

    /** C.1 reversed: CM events delivered in reverse order around a disconnect leave only legal states. */
    @Test
    void cmEventsInReverseOrderAroundADisconnect() throws Exception {
        peer = new IserTestPeer(fabric);
        TransportEndpoint endpoint = connected();
        TransportConnection connection = loggedIn(new RecordingOwner(), endpoint);
        fabric.holdCmEvents();
        peer.disconnect();
        endpoint.disconnect();
        fabric.releaseCmEvents(true);
        connection.stop(StopMode.TERMINATE);
        awaitReleased();
        connection.destroy();
    }

    /** C.2(b): no DISCONNECTED or TIMEWAIT_EXIT ever comes: the release waits for stop and beacon only. */
    @Test
    void releaseDoesNotWaitForCmEventsThatNeverCome() throws Exception {
        peer = new IserTestPeer(fabric);
        TransportEndpoint endpoint = connected();
        TransportConnection connection = loggedIn(new RecordingOwner(), endpoint);
        fabric.discardCmEvents(EnumSet.of(CmEventType.DISCONNECTED, CmEventType.TIMEWAIT_EXIT));
        endpoint.disconnect();
        long started = System.nanoTime();
        connection.stop(StopMode.TERMINATE);
        awaitReleased();
        assertTrue(System.nanoTime() - started < RELEASE_TIMEOUT.toNanos(),
                "released by the stop and the beacon's flush, not by a timeout");
        connection.destroy();
    }

    /** C.2(c) and C.8: leaving with a queued release and a connection nobody stops. */
    @Test
    void leavingFinishesAQueuedReleaseAndForceReleasesTheRest() throws Exception {
        peer = new IserTestPeer(fabric);
        RecordingOwner owner = new RecordingOwner();
        TransportEndpoint endpoint = connected();
        TransportConnection connection = loggedIn(owner, endpoint);
        endpoint.disconnect(); // bound: its release waits for a stop that the owner never makes
        transport.close();
        assertEquals(0, transport.openEndpoints());
        assertEquals(1, owner.failures.size(), "the connection nobody stopped was force-released");
        connection.destroy();
    }

    /** C.13: a disconnect never waits for a CM event, even while every event is held. */
    @Test
    void disconnectReturnsWhileCmEventsAreHeld() throws Exception {
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
        assertTrue(System.nanoTime() - started < TimeUnit.MILLISECONDS.toNanos(500), "disconnect did not wait");
        assertEquals(false, polling.get(1, TimeUnit.SECONDS), "the poll ends with the disconnect");
        fabric.releaseCmEvents(false);
    }

    /** C.3 and C.7: the device goes away under a bound connection; stop and disconnect later touch nothing freed. */
    @Test
    void deviceRemovalFailsTheConnectionAndTheLaterTeardownFreesEverything() throws Exception {
        String device = "iser-race-" + System.nanoTime();
        fabric.addDevice(device, InetAddress.getByName("127.0.0.77"));
        peer = new IserTestPeer(fabric, "127.0.0.77");
        RecordingOwner owner = new RecordingOwner();
        TransportEndpoint endpoint = connected();
        TransportConnection connection = loggedIn(owner, endpoint);
        fabric.removeDevice(device);
        owner.awaitFailure();
        assertEquals(1, owner.failures.size(), owner.failures::toString);
        assertTrue(owner.failures.getFirst().getMessage().contains("DEVICE_REMOVAL")
                || owner.failures.getFirst().getMessage().contains("DISCONNECTED"), owner.failures.getFirst()::getMessage);
        connection.stop(StopMode.RECOVER);
        endpoint.disconnect();
        awaitReleased();
        connection.destroy();
    }

    /** C.10: module init fails (no such provider device): nothing is left behind. */
    @Test
    void aFailedModuleInitLeavesNothing() {
        io.ostia.rdma.RdmaProvider nativeProvider = RdmaProviders.byName(RdmaProviders.NATIVE);
        org.junit.jupiter.api.Assumptions.assumeFalse(nativeProvider.isAvailable() && !nativeProvider.deviceNames().isEmpty(),
                "this machine has a native RDMA device: module init cannot be made to fail this way");
        int threads = Thread.activeCount();
        assertThrows(RuntimeException.class, () -> new IserTransport(IserTransportOptions.defaults()
                .withProvider(RdmaProviders.NATIVE), () -> { }));
        assertTrue(Thread.activeCount() <= threads + 1, "no thread started by a failed init");
    }
}
