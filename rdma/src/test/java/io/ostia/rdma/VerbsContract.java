package io.ostia.rdma;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Set;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Verbs semantics every provider must have; subclasses supply the provider and an address. */
public abstract class VerbsContract {
    private ConnectedPair pair;

    /** The provider under test; skips (with the cause) if unavailable. */
    protected abstract RdmaProvider provider();

    /** An address to listen on, port 0. */
    protected abstract InetSocketAddress listenAddress();

    @AfterEach
    void closeAndCheckNothingLeaks() {
        if (pair != null) {
            pair.close();
        }
        assertEquals(java.util.List.of(), provider().openObjects(), "objects left open");
        providerTestDone();
    }

    /** Runs after each test, once everything was closed. */
    protected void providerTestDone() {
    }

    private ConnectedPair connect() throws InterruptedException {
        pair = ConnectedPair.establish(provider(), listenAddress());
        return pair;
    }

    private static void fill(MemorySegment segment, long offset, int length, int seed) {
        for (int i = 0; i < length; i++) {
            segment.set(JAVA_BYTE, offset + i, (byte) (seed + i));
        }
    }

    private static void assertFilled(MemorySegment segment, long offset, int length, int seed) {
        for (int i = 0; i < length; i++) {
            assertEquals((byte) (seed + i), segment.get(JAVA_BYTE, offset + i), "byte " + i);
        }
    }

    @Test
    void sendWithImmediateReachesThePostedReceive() throws Exception {
        ConnectedPair p = connect();
        p.serverSide.qp.postReceive(new ReceiveWorkRequest().wrId(77).add(p.serverSide.mr, 0, 1024));
        fill(p.clientSide.buffer, 0, 100, 5);
        p.clientSide.qp.postSend(new SendWorkRequest().wrId(11).opcode(SendOpcode.SEND_WITH_IMMEDIATE)
                .immediateData(0xCAFEBABE).add(p.clientSide.mr, 0, 100));

        WorkCompletion sent = p.clientSide.next();
        assertEquals(11, sent.wrId());
        assertEquals(WorkCompletionStatus.SUCCESS, sent.status());
        assertEquals(WorkCompletionOpcode.SEND, sent.opcode());
        WorkCompletion received = p.serverSide.next();
        assertEquals(77, received.wrId());
        assertEquals(WorkCompletionOpcode.RECV, received.opcode());
        assertEquals(100, received.byteLength());
        assertTrue(received.hasImmediate());
        assertEquals(0xCAFEBABE, received.immediateData());
        assertEquals(p.serverSide.qp.number(), received.queuePairNumber());
        assertFilled(p.serverSide.buffer, 0, 100, 5);
    }

    @Test
    void deviceLimitsCoverWhatTheContractUses() throws Exception {
        DeviceLimits limits = connect().client.device().limits();
        assertTrue(limits.maxQueuePairWorkRequests() >= 16, limits.toString());
        assertTrue(limits.maxScatterGather() >= 4, limits.toString());
        assertTrue(limits.maxCompletionQueueEntries() >= 64, limits.toString());
        assertTrue(limits.maxMemoryRegionSize() >= ConnectedPair.BUFFER, limits.toString());
    }

    @Test
    void rdmaWriteAndReadMoveDataWithoutReceives() throws Exception {
        ConnectedPair p = connect();
        fill(p.clientSide.buffer, 0, 256, 40);
        p.clientSide.qp.postSend(new SendWorkRequest().wrId(1).opcode(SendOpcode.RDMA_WRITE)
                .remote(p.serverSide.mr.address() + 512, p.serverSide.mr.rkey()).add(p.clientSide.mr, 0, 256));
        WorkCompletion write = p.clientSide.next();
        assertEquals(WorkCompletionStatus.SUCCESS, write.status());
        assertEquals(WorkCompletionOpcode.RDMA_WRITE, write.opcode());
        assertFilled(p.serverSide.buffer, 512, 256, 40);

        fill(p.serverSide.buffer, 2048, 300, 90);
        p.clientSide.qp.postSend(new SendWorkRequest().wrId(2).opcode(SendOpcode.RDMA_READ)
                .remote(p.serverSide.mr.address() + 2048, p.serverSide.mr.rkey())
                .add(p.clientSide.mr, 1000, 100).add(p.clientSide.mr, 3000, 200));
        WorkCompletion read = p.clientSide.next();
        assertEquals(WorkCompletionStatus.SUCCESS, read.status());
        assertEquals(WorkCompletionOpcode.RDMA_READ, read.opcode());
        assertEquals(300, read.byteLength());
        assertFilled(p.clientSide.buffer, 1000, 100, 90);
        assertFilled(p.clientSide.buffer, 3000, 200, 190);
    }

    @Test
    void movingToErrorFlushesEveryPostedReceive() throws Exception {
        ConnectedPair p = connect();
        for (int i = 0; i < 5; i++) {
            p.serverSide.qp.postReceive(new ReceiveWorkRequest().wrId(100 + i).add(p.serverSide.mr, i * 64L, 64));
        }
        p.serverSide.qp.moveToError();
        assertEquals(QueuePairState.ERROR, p.serverSide.qp.state());
        for (int i = 0; i < 5; i++) {
            WorkCompletion wc = p.serverSide.next();
            assertEquals(100 + i, wc.wrId());
            assertEquals(WorkCompletionStatus.FLUSH_ERROR, wc.status());
        }
        p.serverSide.qp.postReceive(new ReceiveWorkRequest().wrId(200).add(p.serverSide.mr, 0, 64));
        WorkCompletion late = p.serverSide.next();
        assertEquals(200, late.wrId());
        assertEquals(WorkCompletionStatus.FLUSH_ERROR, late.status());
    }

    @Test
    void disconnectReachesBothSidesThenTimewaitExit() throws Exception {
        ConnectedPair p = connect();
        p.serverSide.qp.postReceive(new ReceiveWorkRequest().wrId(5).add(p.serverSide.mr, 0, 64));
        p.client.disconnect();
        p.clientEvents.expect(CmEventType.DISCONNECTED);
        p.serverEvents.expect(CmEventType.DISCONNECTED);
        p.clientEvents.expect(CmEventType.TIMEWAIT_EXIT);
        p.serverEvents.expect(CmEventType.TIMEWAIT_EXIT);
        WorkCompletion flushed = p.serverSide.next();
        assertEquals(5, flushed.wrId());
        assertEquals(WorkCompletionStatus.FLUSH_ERROR, flushed.status());
        p.client.disconnect(); // idempotent
    }

    @Test
    void rejectDeliversReasonAndPrivateData() throws Exception {
        pair = new ConnectedPair(provider(), listenAddress(), ConnectionParameters.withPrivateData(ConnectedPair.CONNECT_DATA));
        pair.server.reject(new byte[] {42});
        CmEvent rejected = pair.clientEvents.expect(CmEventType.REJECTED);
        assertTrue(rejected.status() != 0, "a reject carries a reason");
        assertEquals(42, rejected.privateData()[0]);
    }

    @Test
    void completionNotificationFiresOnceArmed() throws Exception {
        ConnectedPair p = connect();
        CompletionQueue cq = p.serverSide.cq;
        cq.requestNotification(false);
        assertFalse(cq.awaitNotification(Duration.ofMillis(50)), "no completion yet");
        p.serverSide.qp.postReceive(new ReceiveWorkRequest().wrId(1).add(p.serverSide.mr, 0, 64));
        p.clientSide.qp.postSend(new SendWorkRequest().wrId(2).add(p.clientSide.mr, 0, 8));
        assertTrue(cq.awaitNotification(CmEventRecorder.WAIT));
        assertEquals(1, p.serverSide.next().wrId());
    }

    @Test
    void closingParentsWithLiveChildrenNamesThem() throws Exception {
        ConnectedPair p = connect();
        IllegalStateException pd = assertThrows(IllegalStateException.class, p.serverSide.pd::close);
        assertTrue(pd.getMessage().contains("memory region"), pd.getMessage());
        assertTrue(pd.getMessage().contains("queue pair"), pd.getMessage());
        IllegalStateException cq = assertThrows(IllegalStateException.class, p.serverSide.cq::close);
        assertTrue(cq.getMessage().contains("queue pair"), cq.getMessage());
        IllegalStateException id = assertThrows(IllegalStateException.class, p.server::close);
        assertTrue(id.getMessage().contains("queue pair"), id.getMessage());
        IllegalStateException channel = assertThrows(IllegalStateException.class, p.serverChannel::close);
        assertTrue(channel.getMessage().contains("cm id"), channel.getMessage());
        assertFalse(p.serverSide.pd.isClosed());
        p.serverSide.mr.close();
        p.serverSide.mr.close(); // idempotent
        assertTrue(p.serverSide.mr.isClosed());
    }

    @Test
    void registrationRejectsBadInput() throws Exception {
        ConnectedPair p = connect();
        ProtectionDomain pd = p.clientSide.pd;
        IllegalArgumentException heap = assertThrows(IllegalArgumentException.class,
                () -> pd.registerMemory(MemorySegment.ofArray(new byte[16]), Set.of(MemoryAccess.LOCAL_WRITE)));
        assertTrue(heap.getMessage().contains("heap"), heap.getMessage());
        try (Arena arena = Arena.ofConfined()) {
            IllegalArgumentException rights = assertThrows(IllegalArgumentException.class,
                    () -> pd.registerMemory(arena.allocate(64), EnumSet.of(MemoryAccess.REMOTE_WRITE)));
            assertTrue(rights.getMessage().contains("LOCAL_WRITE"), rights.getMessage());
        }
    }

    // ---- error semantics: who sees which completion status ----

    private void postServerReceives(int count) {
        for (int i = 0; i < count; i++) {
            pair.serverSide.qp.postReceive(new ReceiveWorkRequest().wrId(500 + i).add(pair.serverSide.mr, 0, 128));
        }
    }

    private void assertReceivesFlushed(int receives) throws InterruptedException {
        for (int i = 0; i < receives; i++) {
            WorkCompletion wc = pair.serverSide.next();
            assertEquals(500 + i, wc.wrId());
            assertEquals(WorkCompletionStatus.FLUSH_ERROR, wc.status());
        }
    }

    @Test
    void rdmaWriteWithWrongRkeyFailsAtTheRequesterAndFlushesBothSides() throws Exception {
        connect();
        postServerReceives(2);
        pair.clientSide.qp.postSend(new SendWorkRequest().wrId(1).opcode(SendOpcode.RDMA_WRITE)
                .remote(pair.serverSide.mr.address(), pair.serverSide.mr.lkey()).add(pair.clientSide.mr, 0, 8));
        pair.clientSide.qp.postSend(new SendWorkRequest().wrId(2).add(pair.clientSide.mr, 0, 8));
        assertEquals(WorkCompletionStatus.REMOTE_ACCESS_ERROR, pair.clientSide.next().status());
        WorkCompletion behind = pair.clientSide.next();
        assertEquals(2, behind.wrId());
        assertEquals(WorkCompletionStatus.FLUSH_ERROR, behind.status());
        assertReceivesFlushed(2);
    }

    @Test
    void rdmaWritePastTheEndOfTheRegionIsARemoteAccessError() throws Exception {
        connect();
        MemoryRegion target = pair.serverSide.mr;
        pair.clientSide.qp.postSend(new SendWorkRequest().wrId(3).opcode(SendOpcode.RDMA_WRITE)
                .remote(target.address() + target.length() - 4, target.rkey()).add(pair.clientSide.mr, 0, 8));
        WorkCompletion wc = pair.clientSide.next();
        assertEquals(3, wc.wrId());
        assertEquals(WorkCompletionStatus.REMOTE_ACCESS_ERROR, wc.status());
    }

    @Test
    void rdmaReadNeedsRemoteReadRight() throws Exception {
        connect();
        try (Arena arena = Arena.ofConfined()) {
            MemoryRegion writeOnly = pair.serverSide.pd.registerMemory(arena.allocate(256),
                    EnumSet.of(MemoryAccess.LOCAL_WRITE, MemoryAccess.REMOTE_WRITE));
            try {
                pair.clientSide.qp.postSend(new SendWorkRequest().wrId(4).opcode(SendOpcode.RDMA_READ)
                        .remote(writeOnly.address(), writeOnly.rkey()).add(pair.clientSide.mr, 0, 16));
                assertEquals(WorkCompletionStatus.REMOTE_ACCESS_ERROR, pair.clientSide.next().status());
            } finally {
                writeOnly.close();
            }
        }
    }

    @Test
    void unknownLkeyIsALocalProtectionError() throws Exception {
        connect();
        postServerReceives(1);
        SendWorkRequest bad = new SendWorkRequest().wrId(5);
        bad.scatterGather().add(pair.clientSide.mr.address(), 8, pair.clientSide.mr.lkey() + 1);
        pair.clientSide.qp.postSend(bad);
        assertEquals(WorkCompletionStatus.LOCAL_PROTECTION_ERROR, pair.clientSide.next().status());
    }

    @Test
    void receiveTooSmallIsALengthErrorAtTheReceiver() throws Exception {
        connect();
        pair.serverSide.qp.postReceive(new ReceiveWorkRequest().wrId(6).add(pair.serverSide.mr, 0, 16));
        pair.clientSide.qp.postSend(new SendWorkRequest().wrId(7).add(pair.clientSide.mr, 0, 64));
        assertEquals(WorkCompletionStatus.LOCAL_LENGTH_ERROR, pair.serverSide.next().status());
        assertEquals(WorkCompletionStatus.REMOTE_INVALID_REQUEST_ERROR, pair.clientSide.next().status());
    }

    @Test
    void sendWithoutReceiveWaitsWhileRnrRetryIsUnlimited() throws Exception {
        connect();
        pair.clientSide.qp.postSend(new SendWorkRequest().wrId(8).add(pair.clientSide.mr, 0, 8));
        WorkCompletion[] none = {new WorkCompletion()};
        assertEquals(0, pair.clientSide.cq.poll(none), "the send waits for a receive");
        postServerReceives(1);
        assertEquals(WorkCompletionStatus.SUCCESS, pair.clientSide.next().status());
        assertEquals(500, pair.serverSide.next().wrId());
    }

    @Test
    void tooManyScatterGatherEntriesIsRefused() throws Exception {
        connect();
        SendWorkRequest wide = new SendWorkRequest();
        for (int i = 0; i < 5; i++) {
            wide.add(pair.clientSide.mr, i, 1);
        }
        RdmaException e = assertThrows(RdmaException.class, () -> pair.clientSide.qp.postSend(wide));
        assertTrue(e.getMessage().contains("5 scatter/gather entries"), e.getMessage());
    }

    @Test
    void solicitedOnlyNotificationIgnoresUnsolicitedReceives() throws Exception {
        connect();
        postServerReceives(2);
        pair.serverSide.cq.requestNotification(true);
        pair.clientSide.qp.postSend(new SendWorkRequest().wrId(1).signaled(false).add(pair.clientSide.mr, 0, 8));
        assertTrue(!pair.serverSide.cq.awaitNotification(Duration.ofMillis(30)), "unsolicited receive must not notify");
        pair.clientSide.qp.postSend(new SendWorkRequest().wrId(2).signaled(false).solicited(true).add(pair.clientSide.mr, 0, 8));
        assertTrue(pair.serverSide.cq.awaitNotification(CmEventRecorder.WAIT));
        WorkCompletion[] none = {new WorkCompletion()};
        assertEquals(0, pair.clientSide.cq.poll(none), "unsignaled sends report no success");
    }

    @Test
    void rnrRetryExhaustionIsReportedToTheSender() throws Exception {
        pair = new ConnectedPair(provider(), listenAddress(),
                ConnectionParameters.withPrivateData(ConnectedPair.CONNECT_DATA).withRnrRetryCount(3));
        pair.accept(ConnectionParameters.withPrivateData(ConnectedPair.ACCEPT_DATA));
        pair.clientSide.qp.postSend(new SendWorkRequest().wrId(9).add(pair.clientSide.mr, 0, 8));
        WorkCompletion wc = pair.clientSide.next();
        assertEquals(9, wc.wrId());
        assertEquals(WorkCompletionStatus.RNR_RETRY_EXCEEDED, wc.status());
    }

    @Test
    void eventThreadStopsWhenTheChannelCloses() {
        CmEventChannel channel = provider().createEventChannel(e -> { });
        String name = channel.threadName();
        assertTrue(threadAlive(name), "event thread running");
        channel.close();
        channel.close();
        assertFalse(threadAlive(name), "event thread " + name + " still alive after close");
    }

    static boolean threadAlive(String name) {
        return Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.getName().equals(name) && t.isAlive());
    }
}
