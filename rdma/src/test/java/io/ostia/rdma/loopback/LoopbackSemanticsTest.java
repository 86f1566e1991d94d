package io.ostia.rdma.loopback;

import io.ostia.rdma.CmEvent;
import io.ostia.rdma.CmEventChannel;
import io.ostia.rdma.CmEventRecorder;
import io.ostia.rdma.CmEventType;
import io.ostia.rdma.CmId;
import io.ostia.rdma.ConnectedPair;
import io.ostia.rdma.ConnectionParameters;
import io.ostia.rdma.MemoryAccess;
import io.ostia.rdma.QueuePairState;
import io.ostia.rdma.RdmaException;
import io.ostia.rdma.ReceiveWorkRequest;
import io.ostia.rdma.SendOpcode;
import io.ostia.rdma.SendWorkRequest;
import io.ostia.rdma.WorkCompletion;
import io.ostia.rdma.WorkCompletionStatus;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Data-path error semantics of the loopback fabric: who sees which status. */
class LoopbackSemanticsTest {
    private LoopbackFabric fabric;
    private ConnectedPair pair;

    @BeforeEach
    void connect() throws InterruptedException {
        fabric = LoopbackFabric.create();
        pair = ConnectedPair.establish(fabric, new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    }

    @AfterEach
    void closeAll() {
        pair.close();
        assertEquals(List.of(), fabric.openObjects());
        fabric.close();
    }

    @Test
    void remoteAccessErrorMovesBothQueuePairsToError() throws Exception {
        pair.clientSide.qp.postSend(new SendWorkRequest().wrId(1).opcode(SendOpcode.RDMA_WRITE)
                .remote(pair.serverSide.mr.address(), pair.serverSide.mr.lkey()).add(pair.clientSide.mr, 0, 8));
        assertEquals(WorkCompletionStatus.REMOTE_ACCESS_ERROR, pair.clientSide.next().status());
        assertEquals(QueuePairState.ERROR, pair.clientSide.qp.state());
        assertEquals(QueuePairState.ERROR, pair.serverSide.qp.state());
    }

    @Test
    void localProtectionErrorMovesOnlyTheRequesterToError() throws Exception {
        SendWorkRequest bad = new SendWorkRequest().wrId(5);
        bad.scatterGather().add(pair.clientSide.mr.address(), 8, pair.clientSide.mr.lkey() + 1);
        pair.clientSide.qp.postSend(bad);
        assertEquals(WorkCompletionStatus.LOCAL_PROTECTION_ERROR, pair.clientSide.next().status());
        assertEquals(QueuePairState.ERROR, pair.clientSide.qp.state());
        assertEquals(QueuePairState.READY_TO_SEND, pair.serverSide.qp.state());
    }

    @Test
    void sendQueueOverflowNamesTheLimit() {
        for (int i = 0; i < 16; i++) {
            pair.clientSide.qp.postSend(new SendWorkRequest().wrId(i).add(pair.clientSide.mr, 0, 8));
        }
        RdmaException full = assertThrows(RdmaException.class,
                () -> pair.clientSide.qp.postSend(new SendWorkRequest().add(pair.clientSide.mr, 0, 8)));
        assertTrue(full.getMessage().contains("full (16 outstanding)"), full.getMessage());
    }

    @Test
    void concurrentPostersAndAPollerSeeEveryMessageOnce() throws Exception {
        int perThread = 1000;
        int senders = 2;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        Set<Integer> received = ConcurrentHashMap.newKeySet();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread receiver = Thread.ofPlatform().start(() -> {
            try {
                WorkCompletion[] batch = {new WorkCompletion(), new WorkCompletion(), new WorkCompletion(), new WorkCompletion()};
                ReceiveWorkRequest recv = new ReceiveWorkRequest();
                for (int i = 0; i < 16; i++) {
                    pair.serverSide.qp.postReceive(recv.reset().wrId(i).add(pair.serverSide.mr, i * 64L, 64));
                }
                while (received.size() < perThread * senders && System.nanoTime() < deadline) {
                    int n = pair.serverSide.cq.poll(batch);
                    for (int i = 0; i < n; i++) {
                        assertEquals(WorkCompletionStatus.SUCCESS, batch[i].status(), batch[i].toString());
                        assertTrue(received.add(batch[i].immediateData()), "received twice: " + batch[i]);
                        long slot = batch[i].wrId();
                        pair.serverSide.qp.postReceive(recv.reset().wrId(slot).add(pair.serverSide.mr, slot * 64, 64));
                    }
                }
            } catch (Throwable t) {
                failure.compareAndSet(null, t);
            }
        });
        List<Thread> posters = new ArrayList<>();
        for (int t = 0; t < senders; t++) {
            int base = t * perThread;
            posters.add(Thread.ofPlatform().start(() -> {
                SendWorkRequest send = new SendWorkRequest();
                try {
                    for (int i = 0; i < perThread && System.nanoTime() < deadline; ) {
                        send.reset().opcode(SendOpcode.SEND_WITH_IMMEDIATE).immediateData(base + i).signaled(false)
                                .add(pair.clientSide.mr, 0, 8);
                        try {
                            pair.clientSide.qp.postSend(send);
                            i++;
                        } catch (RdmaException full) {
                            // Sends wait for receives (RNR retry forever) and fill the queue: back off.
                            Thread.onSpinWait();
                        }
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }));
        }
        for (Thread t : posters) {
            t.join(TimeUnit.SECONDS.toMillis(15));
        }
        receiver.join(TimeUnit.SECONDS.toMillis(15));
        if (failure.get() != null) {
            throw new AssertionError("a worker failed", failure.get());
        }
        assertEquals(perThread * senders, received.size(), "every send was received exactly once");
        assertEquals(QueuePairState.READY_TO_SEND, pair.clientSide.qp.state());
    }

    @Test
    void postingSendBeforeConnectionIsRefused() throws Exception {
        CmEventRecorder events = new CmEventRecorder();
        try (CmEventChannel channel = fabric.createEventChannel(events)) {
            CmId id = channel.createId();
            try {
                id.resolveAddress(null, pair.listener.localAddress(), Duration.ofSeconds(1));
                events.expect(CmEventType.ADDR_RESOLVED);
                var pd = id.device().allocateProtectionDomain();
                var cq = id.device().createCompletionQueue(4);
                var qp = id.createQueuePair(pd, new io.ostia.rdma.QueuePairAttributes(cq, cq, 2, 2, 1, 1));
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> qp.postSend(new SendWorkRequest()));
                assertTrue(e.getMessage().contains("not connected"), e.getMessage());
                qp.close();
                cq.close();
                pd.close();
            } finally {
                id.close();
            }
        }
    }

    @Test
    void registeringRejectsEmptySegments() {
        try (Arena arena = Arena.ofConfined()) {
            assertThrows(IllegalArgumentException.class,
                    () -> pair.clientSide.pd.registerMemory(arena.allocate(0), Set.of(MemoryAccess.LOCAL_WRITE)));
        }
    }

    @Test
    void connectRequestToAClosedListenerIsRejected() throws Exception {
        fabric.holdCmEvents();
        CmEventRecorder events = new CmEventRecorder();
        CmEventChannel channel = fabric.createEventChannel(events);
        CmId id = channel.createId();
        try {
            id.resolveAddress(null, pair.listener.localAddress(), Duration.ofSeconds(1));
            id.resolveRoute(Duration.ofSeconds(1));
            var pd = id.device().allocateProtectionDomain();
            var cq = id.device().createCompletionQueue(4);
            var qp = id.createQueuePair(pd, new io.ostia.rdma.QueuePairAttributes(cq, cq, 2, 2, 1, 1));
            id.connect(ConnectionParameters.withPrivateData(new byte[0]));
            pair.listener.close();
            fabric.releaseCmEvents(false);
            events.expect(CmEventType.ADDR_RESOLVED);
            events.expect(CmEventType.ROUTE_RESOLVED);
            CmEvent rejected = events.expect(CmEventType.REJECTED);
            assertEquals(28, rejected.status());
            qp.close();
            cq.close();
            pd.close();
        } finally {
            id.close();
            channel.close();
        }
    }
}
