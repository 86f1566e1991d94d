package io.ostia.rdma.loopback;

import io.ostia.rdma.CmEvent;
import io.ostia.rdma.CmEventChannel;
import io.ostia.rdma.CmEventRecorder;
import io.ostia.rdma.CmEventType;
import io.ostia.rdma.CmId;
import io.ostia.rdma.ConnectedPair;
import io.ostia.rdma.ConnectionParameters;
import io.ostia.rdma.QueuePairState;
import io.ostia.rdma.RdmaException;
import io.ostia.rdma.ReceiveWorkRequest;
import io.ostia.rdma.WorkCompletionStatus;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** rdma_cm event sequences of the loopback fabric, with injected faults. */
class LoopbackConnectionManagerTest {
    private static final Duration QUIET = Duration.ofMillis(100);
    private static final Duration TIMEOUT = Duration.ofSeconds(1);

    private LoopbackFabric fabric;
    private long threadsBefore;
    private final CmEventRecorder events = new CmEventRecorder();
    private CmEventChannel channel;

    @BeforeEach
    void setUp() {
        threadsBefore = cmThreads();
        fabric = LoopbackFabric.create();
        channel = fabric.createEventChannel(events);
    }

    @AfterEach
    void tearDown() {
        channel.close();
        assertEquals(List.of(), fabric.openObjects());
        fabric.close();
        assertEquals(threadsBefore, cmThreads(), "loopback event threads leaked");
    }

    private static long cmThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("ostia-rdma-loopback-cm-") && t.isAlive()).count();
    }

    private static InetSocketAddress any() {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
    }

    @Test
    void unknownDestinationIsAnAddressError() throws Exception {
        CmId id = channel.createId();
        try {
            id.resolveAddress(null, new InetSocketAddress("192.0.2.1", 3260), TIMEOUT);
            CmEvent e = events.expect(CmEventType.ADDR_ERROR);
            assertTrue(e.status() < 0, "status is a negative errno");
            assertThrows(IllegalStateException.class, () -> id.resolveRoute(TIMEOUT));
        } finally {
            id.close();
        }
    }

    @Test
    void connectWithoutListenerIsRejected() throws Exception {
        CmId id = channel.createId();
        try (var _ = resolveAndPrepare(id, new InetSocketAddress(InetAddress.getLoopbackAddress(), 3260))) {
            id.connect(ConnectionParameters.withPrivateData(new byte[0]));
            assertEquals(8, events.expect(CmEventType.REJECTED).status());
        } finally {
            id.close();
        }
    }

    @Test
    void unreachablePeerGivesUnreachable() throws Exception {
        fabric.setUnreachable(InetAddress.getLoopbackAddress(), true);
        CmId id = channel.createId();
        try (var _ = resolveAndPrepare(id, new InetSocketAddress(InetAddress.getLoopbackAddress(), 3260))) {
            id.connect(ConnectionParameters.withPrivateData(new byte[0]));
            events.expect(CmEventType.UNREACHABLE);
        } finally {
            id.close();
        }
    }

    @Test
    void connectPrivateDataIsLimitedToWhatAConnectRequestHolds() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> {
            CmId id = channel.createId();
            try {
                id.connect(ConnectionParameters.withPrivateData(new byte[57]));
            } finally {
                id.close();
            }
        });
        assertTrue(e.getMessage().contains("57 bytes"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ConnectionParameters.withPrivateData(new byte[197]));
    }

    @Test
    void droppedConnectionDisconnectsBothSidesAndFlushes() throws Exception {
        try (ConnectedPair p = ConnectedPair.establish(fabric, any())) {
            p.serverSide.qp.postReceive(new ReceiveWorkRequest().wrId(1).add(p.serverSide.mr, 0, 64));
            fabric.dropConnection(p.server);
            p.serverEvents.expect(CmEventType.DISCONNECTED);
            p.serverEvents.expect(CmEventType.TIMEWAIT_EXIT);
            p.clientEvents.expect(CmEventType.DISCONNECTED);
            p.clientEvents.expect(CmEventType.TIMEWAIT_EXIT);
            assertEquals(QueuePairState.ERROR, p.clientSide.qp.state());
            assertEquals(WorkCompletionStatus.FLUSH_ERROR, p.serverSide.next().status());
            assertThrows(IllegalStateException.class, () -> fabric.dropConnection(p.server));
        }
    }

    @Test
    void deviceRemovalReachesEveryIdOnTheDeviceAndThePeer() throws Exception {
        fabric.addDevice("lo1", InetAddress.getByName("127.0.0.2"));
        try (ConnectedPair p = ConnectedPair.establish(fabric, new InetSocketAddress("127.0.0.2", 0))) {
            assertEquals("lo1", p.server.device().name());
            fabric.removeDevice("lo1");
            // Client and server both resolved to lo1: both ids see the removal, the listener too.
            p.serverEvents.expect(CmEventType.DEVICE_REMOVAL);
            p.clientEvents.expect(CmEventType.DEVICE_REMOVAL);
            assertEquals(QueuePairState.ERROR, p.serverSide.qp.state());
            assertTrue(p.server.device().isRemoved());
            RdmaException e = assertThrows(RdmaException.class, () -> p.server.device().allocateProtectionDomain());
            assertTrue(e.getMessage().contains("lo1 was removed"), e.getMessage());
            assertEquals(List.of("lo0"), fabric.deviceNames());
        }
        assertThrows(IllegalArgumentException.class, () -> fabric.removeDevice("lo1"));
    }

    @Test
    void deviceRemovalOnOneSideDisconnectsThePeer() throws Exception {
        fabric.addDevice("lo1", InetAddress.getByName("127.0.0.2"));
        fabric.addDevice("lo2", InetAddress.getByName("127.0.0.3"));
        try (ConnectedPair p = new ConnectedPair(fabric, new InetSocketAddress("127.0.0.2", 0),
                new InetSocketAddress("127.0.0.3", 0), ConnectionParameters.withPrivateData(ConnectedPair.CONNECT_DATA))) {
            p.accept(ConnectionParameters.withPrivateData(ConnectedPair.ACCEPT_DATA));
            assertEquals("lo2", p.client.device().name());
            fabric.removeDevice("lo2");
            p.clientEvents.expect(CmEventType.DEVICE_REMOVAL);
            p.serverEvents.expect(CmEventType.DISCONNECTED);
            p.serverEvents.expect(CmEventType.TIMEWAIT_EXIT);
            assertEquals(QueuePairState.ERROR, p.serverSide.qp.state());
            fabric.removeDevice("lo1");
            p.serverEvents.expect(CmEventType.DEVICE_REMOVAL); // the accepted id
            p.serverEvents.expect(CmEventType.DEVICE_REMOVAL); // the listener
            p.serverEvents.expectNone(QUIET);
        }
    }

    @Test
    void delayedEventsArriveNoSooner() throws Exception {
        fabric.setCmEventDelay(Duration.ofMillis(150));
        CmId id = channel.createId();
        try {
            long start = System.nanoTime();
            id.resolveAddress(null, new InetSocketAddress(InetAddress.getLoopbackAddress(), 1), TIMEOUT);
            events.expect(CmEventType.ADDR_RESOLVED);
            assertTrue(System.nanoTime() - start >= Duration.ofMillis(150).toNanos(), "event came before its delay");
        } finally {
            id.close();
        }
    }

    @Test
    void heldEventsCanBeReleasedReversed() throws Exception {
        CmId first = channel.createId();
        CmId second = channel.createId();
        try {
            fabric.holdCmEvents();
            InetSocketAddress nowhere = new InetSocketAddress("192.0.2.7", 1);
            first.resolveAddress(null, new InetSocketAddress(InetAddress.getLoopbackAddress(), 1), TIMEOUT);
            second.resolveAddress(null, nowhere, TIMEOUT);
            events.expectNone(QUIET);
            assertEquals(2, fabric.releaseCmEvents(true));
            assertEquals(second, events.expect(CmEventType.ADDR_ERROR).id());
            assertEquals(first, events.expect(CmEventType.ADDR_RESOLVED).id());
        } finally {
            first.close();
            second.close();
        }
    }

    @Test
    void discardedEventsNeverArrive() throws Exception {
        fabric.discardCmEvents(Set.of(CmEventType.TIMEWAIT_EXIT));
        try (ConnectedPair p = ConnectedPair.establish(fabric, any())) {
            p.client.disconnect();
            p.serverEvents.expect(CmEventType.DISCONNECTED);
            p.server.disconnect();
            p.clientEvents.expect(CmEventType.DISCONNECTED);
            p.clientEvents.expectNone(QUIET);
            p.serverEvents.expectNone(Duration.ZERO);
        }
        fabric.discardCmEvents(Set.of());
    }

    @Test
    void eventsForAClosedIdAreDropped() throws Exception {
        fabric.holdCmEvents();
        CmId id = channel.createId();
        id.resolveAddress(null, new InetSocketAddress(InetAddress.getLoopbackAddress(), 1), TIMEOUT);
        id.close();
        assertEquals(1, fabric.releaseCmEvents(false));
        events.expectNone(QUIET);
    }

    @Test
    void aFailingHandlerDoesNotStopDelivery() throws Exception {
        CountDownLatch second = new CountDownLatch(2);
        try (CmEventChannel throwing = fabric.createEventChannel(e -> {
            second.countDown();
            throw new IllegalStateException("handler failure for the test");
        })) {
            CmId a = throwing.createId();
            CmId b = throwing.createId();
            a.resolveAddress(null, new InetSocketAddress(InetAddress.getLoopbackAddress(), 1), TIMEOUT);
            b.resolveAddress(null, new InetSocketAddress(InetAddress.getLoopbackAddress(), 1), TIMEOUT);
            assertTrue(second.await(5, TimeUnit.SECONDS), "the second event was not delivered");
            a.close();
            b.close();
        }
    }

    @Test
    void closingTheChannelFromItsHandlerIsRefused() throws Exception {
        CountDownLatch done = new CountDownLatch(1);
        Throwable[] seen = new Throwable[1];
        CmEventChannel[] self = new CmEventChannel[1];
        CmId[] id = new CmId[1];
        self[0] = fabric.createEventChannel(e -> {
            try {
                e.id().close();
                self[0].close();
            } catch (IllegalStateException ex) {
                seen[0] = ex;
            }
            done.countDown();
        });
        id[0] = self[0].createId();
        id[0].resolveAddress(null, new InetSocketAddress(InetAddress.getLoopbackAddress(), 1), TIMEOUT);
        assertTrue(done.await(5, TimeUnit.SECONDS));
        assertTrue(seen[0] != null && seen[0].getMessage().contains("own handler thread"), String.valueOf(seen[0]));
        self[0].close();
    }

    @Test
    void closingTheFabricWithOpenObjectsNamesThem() {
        CmId id = channel.createId();
        IllegalStateException e = assertThrows(IllegalStateException.class, fabric::close);
        assertTrue(e.getMessage().contains("loopback cm id"), e.getMessage());
        id.close();
        assertThrows(IllegalStateException.class, () -> LoopbackFabric.shared().close());
    }

    @Test
    void listenerPortsAreExclusive() {
        CmId a = channel.createId();
        CmId b = channel.createId();
        try {
            a.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 3260));
            a.listen(4);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> b.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 3260)));
            assertTrue(e.getMessage().contains("3260"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> b.bind(new InetSocketAddress("192.0.2.1", 1)));
        } finally {
            a.close();
            b.close();
        }
    }

    /** Resolves address and route and creates a queue pair; returns a closer for them. */
    private AutoCloseable resolveAndPrepare(CmId id, InetSocketAddress destination) throws InterruptedException {
        id.resolveAddress(null, destination, TIMEOUT);
        events.expect(CmEventType.ADDR_RESOLVED);
        id.resolveRoute(TIMEOUT);
        events.expect(CmEventType.ROUTE_RESOLVED);
        var pd = id.device().allocateProtectionDomain();
        var cq = id.device().createCompletionQueue(4);
        var qp = id.createQueuePair(pd, new io.ostia.rdma.QueuePairAttributes(cq, cq, 2, 2, 1, 1));
        return () -> {
            qp.close();
            cq.close();
            pd.close();
        };
    }
}
