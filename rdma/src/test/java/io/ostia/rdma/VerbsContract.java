package io.ostia.rdma;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Verbs semantics every provider must have; subclasses supply the provider and an address.
 *
 * <p>The oracle is the real stack: rdma-core 44 with the kernel's Soft-RoCE driver (rxe, Linux
 * 6.1), run in the VM lab. The loopback fabric and the C stand-in (fakerdma.c) do what it does;
 * where real devices legitimately differ, the contract accepts the set they produce and says so.
 * What it encodes, and why:
 * <ul>
 * <li>Private data arrives as rdma_cm delivers it on InfiniBand and RoCE: the bytes sent, padded
 *     with zeros to the CM message's private-data field (56 bytes in CONNECT_REQUEST, 196 in the
 *     active side's ESTABLISHED, 148 in REJECTED); the passive side's ESTABLISHED carries none.
 *     The CM messages have fixed-size fields and the kernel hands over the whole field.
 * <li>A disconnect is a request and a reply (IB CM DREQ/DREP): the side that disconnects first
 *     is told DISCONNECTED only once the peer answers with its own {@code disconnect()} (or closes
 *     its id); the peer is told at once. Each side gets TIMEWAIT_EXIT after its part.
 * <li>The RNR retry count given to {@code connect()} governs the peer's sends, the one given to
 *     {@code accept()} the connector's (rdma_connect(3): the CM carries each side's value to the
 *     other side's queue pair).
 * <li>Moving a queue pair to error flushes what was posted; a send posted afterwards flushes at
 *     once, a receive posted afterwards is never completed (rxe leaves it queued; hardware such as
 *     mlx5 flushes it). A consumer must not wait for receives it posts in error.
 * <li>Status codes of some errors differ between devices: rxe reports LOCAL_QP_OPERATION_ERROR
 *     both for an unknown lkey and for a receive too small, where the verbs specification (and
 *     mlx5) say LOCAL_PROTECTION_ERROR and LOCAL_LENGTH_ERROR; and the sender of a message too
 *     long for the receive gets REMOTE_OPERATION_ERROR from rxe where the specification says
 *     REMOTE_INVALID_REQUEST_ERROR. Those tests accept either.
 * </ul>
 * The architecture notes (docs/architecture-rdma.md) repeat these for the consumers' sake.
 */
public abstract class VerbsContract {
    /** Unknown lkey: the verbs specification's code, and what rxe reports. */
    static final Set<WorkCompletionStatus> UNKNOWN_LKEY =
            EnumSet.of(WorkCompletionStatus.LOCAL_PROTECTION_ERROR, WorkCompletionStatus.LOCAL_QP_OPERATION_ERROR);
    /** Receive shorter than the message, at the receiver: the specification's code, and rxe's. */
    static final Set<WorkCompletionStatus> RECEIVE_TOO_SMALL =
            EnumSet.of(WorkCompletionStatus.LOCAL_LENGTH_ERROR, WorkCompletionStatus.LOCAL_QP_OPERATION_ERROR);
    /** Receive shorter than the message, at the sender: the specification's NAK (invalid request), and rxe's. */
    static final Set<WorkCompletionStatus> RECEIVE_TOO_SMALL_AT_THE_SENDER =
            EnumSet.of(WorkCompletionStatus.REMOTE_INVALID_REQUEST_ERROR, WorkCompletionStatus.REMOTE_OPERATION_ERROR);

    private static final int ENODEV = 19;

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

    /**
     * A device of this provider that a test may remove, or null where none may be (the test
     * then skips): the native provider on a host, whose devices are not the test's.
     */
    protected RemovableDevice removableDevice() throws Exception {
        return null;
    }

    /** A device a test may remove. */
    public interface RemovableDevice {
        /** An address on the device, port 0. */
        InetSocketAddress address();

        /** Starts removing the device; the removal may wait for its users to let go (rxe's does). */
        void remove();

        /** Waits, at most {@code bound}, until the removal has completed. */
        void awaitRemoved(Duration bound) throws Exception;
    }

    /**
     * Removal as rxe does it ({@code rdma link delete}): every id on the device is told
     * DEVICE_REMOVAL, the listener too; a connected id may first hear DISCONNECTED (the kernel
     * destroys each id it told, which disconnects its peer); the device reports removed and
     * refuses new objects; a new id cannot bind to its address (ENODEV); disconnecting afterwards
     * makes no CM call (the kernel's side of the id is gone) and does not fail. Once everything is closed the removal completes: on rxe the
     * kernel waits until the process has closed the device, librdmacm's context included.
     */
    @Test
    void removingTheDeviceTellsEveryIdAndCompletesOnceEverythingIsClosed() throws Exception {
        RemovableDevice removable = removableDevice();
        assumeTrue(removable != null, "no device of " + provider().name() + " may be removed here");
        ConnectedPair p = pair = ConnectedPair.establish(provider(), removable.address());
        RdmaDevice device = p.client.device();
        removable.remove();
        expectRemoval(p.clientEvents, 1, "the client's id");
        expectRemoval(p.serverEvents, 2, "the listener and the accepted id");
        assertTrue(device.isRemoved(), device + " reports removed");
        assertThrows(RdmaException.class, device::allocateProtectionDomain, "a new object on the removed device");
        // rdma_cm drops the device from its list before it tells the ids: no id binds to it again.
        CmId late = p.clientChannel.createId();
        try {
            NativeCallException refused = assertThrows(NativeCallException.class, () -> late.bind(removable.address()));
            assertEquals(ENODEV, refused.errno(), () -> "binding to the removed device's address: " + refused.getMessage());
        } finally {
            late.close();
        }
        p.client.disconnect();
        p.server.disconnect();
        pair = null;
        p.close();
        removable.awaitRemoved(Duration.ofSeconds(30));
    }

    private static void expectRemoval(CmEventRecorder events, int ids, String what) throws InterruptedException {
        long deadline = System.nanoTime() + CmEventRecorder.WAIT.toNanos();
        int removals = 0;
        while (removals < ids) {
            CmEvent e = events.next(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
            assertTrue(e != null, what + ": " + removals + " of " + ids + " DEVICE_REMOVAL within " + CmEventRecorder.WAIT
                    + "; events " + events.typesSoFar());
            if (e.type() == CmEventType.DEVICE_REMOVAL) {
                removals++;
            } else {
                assertEquals(CmEventType.DISCONNECTED, e.type(), what + ": unexpected event " + e);
            }
        }
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
        // Posted in error: a receive is never completed (rxe), a send flushes at once.
        p.serverSide.qp.postReceive(new ReceiveWorkRequest().wrId(200).add(p.serverSide.mr, 0, 64));
        p.serverSide.expectNothing();
        p.serverSide.qp.postSend(new SendWorkRequest().wrId(201).add(p.serverSide.mr, 0, 8));
        WorkCompletion late = p.serverSide.next();
        assertEquals(201, late.wrId());
        assertEquals(WorkCompletionStatus.FLUSH_ERROR, late.status());
        p.serverSide.expectNothing();
    }

    @Test
    void disconnectIsAnsweredByThePeersDisconnectThenBothReachTimewaitExit() throws Exception {
        disconnectInTurn(true);
    }

    @Test
    void thePassiveSideCanDisconnectFirst() throws Exception {
        disconnectInTurn(false);
    }

    @Test
    void closingTheToldSideAnswersTheDisconnect() throws Exception {
        ConnectedPair p = connect();
        p.client.disconnect();
        p.serverEvents.expect(CmEventType.DISCONNECTED);
        p.serverSide.qp.close();
        p.server.close(); // as rdma_destroy_id does, sends the answer the server owed
        p.clientEvents.expect(CmEventType.DISCONNECTED);
        p.clientEvents.expect(CmEventType.TIMEWAIT_EXIT);
    }

    /**
     * One side disconnects; the peer is told at once and answers with its own disconnect; then
     * both are through, and a receive the peer had posted is flushed.
     */
    private void disconnectInTurn(boolean clientFirst) throws InterruptedException {
        ConnectedPair p = connect();
        CmId first = clientFirst ? p.client : p.server;
        CmId peer = clientFirst ? p.server : p.client;
        CmEventRecorder firstEvents = clientFirst ? p.clientEvents : p.serverEvents;
        CmEventRecorder peerEvents = clientFirst ? p.serverEvents : p.clientEvents;
        ConnectedPair.Side peerSide = clientFirst ? p.serverSide : p.clientSide;
        peerSide.qp.postReceive(new ReceiveWorkRequest().wrId(5).add(peerSide.mr, 0, 64));
        first.disconnect();
        peerEvents.expect(CmEventType.DISCONNECTED);
        firstEvents.expectNone(CmEventRecorder.QUIET); // told only once the peer answers
        peer.disconnect();
        firstEvents.expect(CmEventType.DISCONNECTED);
        firstEvents.expect(CmEventType.TIMEWAIT_EXIT);
        peerEvents.expect(CmEventType.TIMEWAIT_EXIT);
        WorkCompletion flushed = peerSide.next();
        assertEquals(5, flushed.wrId());
        assertEquals(WorkCompletionStatus.FLUSH_ERROR, flushed.status());
        first.disconnect(); // idempotent
        peer.disconnect();
        firstEvents.expectNone(CmEventRecorder.QUIET);
        peerEvents.expectNone(Duration.ZERO);
    }

    @Test
    void rejectDeliversReasonAndPrivateData() throws Exception {
        pair = new ConnectedPair(provider(), listenAddress(), ConnectionParameters.withPrivateData(ConnectedPair.CONNECT_DATA));
        pair.server.reject(new byte[] {42});
        CmEvent rejected = pair.clientEvents.expect(CmEventType.REJECTED);
        assertTrue(rejected.status() != 0, "a reject carries a reason");
        ConnectedPair.assertDelivered(new byte[] {42}, ConnectionParameters.MAX_REJECT_PRIVATE_DATA, rejected, "reject private data");
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

    /**
     * Whether this provider's post, arm, wait and poll allocate nothing on the calling thread, so
     * that {@link #armWaitPollCyclesAllocateNothing} holds it to that; false skips the test.
     */
    protected boolean dataPathAllocatesNothing() {
        return false;
    }

    /**
     * The completion path a transport's completion thread runs per I/O (post, arm, wait for the
     * event, poll) allocates nothing once warm: the calling thread's allocated bytes over many
     * cycles stay under a few bytes per cycle (a per-wait arena, pollfd or boxed varargs would
     * cost a hundred or more).
     */
    @Test
    void armWaitPollCyclesAllocateNothing() throws Exception {
        assumeTrue(dataPathAllocatesNothing(), "this provider does not claim an allocation-free completion path");
        ConnectedPair p = connect();
        ReceiveWorkRequest receive = new ReceiveWorkRequest().wrId(1).add(p.serverSide.mr, 0, 64);
        SendWorkRequest send = new SendWorkRequest().wrId(2).add(p.clientSide.mr, 0, 8);
        WorkCompletion[] one = {new WorkCompletion()};
        int warmUp = 3000;
        int measured = 2000;
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long before = 0;
        for (int i = 0; i < warmUp + measured; i++) {
            if (i == warmUp) {
                before = threads.getCurrentThreadAllocatedBytes();
            }
            p.serverSide.qp.postReceive(receive);
            p.serverSide.cq.requestNotification(false);
            p.clientSide.qp.postSend(send);
            if (!p.serverSide.cq.awaitNotification(CmEventRecorder.WAIT)) {
                throw new AssertionError("no completion event within " + CmEventRecorder.WAIT + " in cycle " + i);
            }
            pollOne(p.serverSide.cq, one, i);
            assertTrue(one[0].status() == WorkCompletionStatus.SUCCESS && one[0].wrId() == 1, "receive completion");
            pollOne(p.clientSide.cq, one, i);
            assertTrue(one[0].status() == WorkCompletionStatus.SUCCESS && one[0].wrId() == 2, "send completion");
        }
        long perCycle = (threads.getCurrentThreadAllocatedBytes() - before) / measured;
        System.out.printf("[contract] %s: %d B allocated per post/arm/wait/poll cycle (%d cycles after %d warm-up)%n",
                provider().name(), perCycle, measured, warmUp);
        assertTrue(perCycle < 8, perCycle + " B allocated per post/arm/wait/poll cycle");
    }

    /** Polls {@code cq} until one completion arrives, bounded; no allocation on the way. */
    private static void pollOne(CompletionQueue cq, WorkCompletion[] one, int cycle) {
        long deadline = System.nanoTime() + CmEventRecorder.WAIT.toNanos();
        while (cq.poll(one) == 0) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("no completion within " + CmEventRecorder.WAIT + " in cycle " + cycle);
            }
            Thread.onSpinWait();
        }
    }

    @Test
    void closingACompletionQueueEndsAWaitOnIt() throws Exception {
        ConnectedPair p = connect();
        CompletionQueue cq = p.client.device().createCompletionQueue(4);
        cq.requestNotification(false);
        java.util.concurrent.CompletableFuture<Throwable> waiter = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                cq.awaitNotification(Duration.ofSeconds(30));
                return null;
            } catch (Throwable t) {
                return t;
            }
        });
        Thread.sleep(50);
        long start = System.nanoTime();
        cq.close();
        Throwable ended = waiter.get(5, java.util.concurrent.TimeUnit.SECONDS);
        assertTrue(ended instanceof IllegalStateException, String.valueOf(ended));
        assertTrue(ended.getMessage().contains("closed"), ended.getMessage());
        assertTrue(System.nanoTime() - start < Duration.ofSeconds(2).toNanos(), "the wait ended promptly");
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
        // Corrupt the key's low byte: HCAs such as mlx5 give lkey == rkey, so "use the lkey" would not do.
        int wrongRkey = pair.serverSide.mr.rkey() ^ 0xFF;
        pair.clientSide.qp.postSend(new SendWorkRequest().wrId(1).opcode(SendOpcode.RDMA_WRITE)
                .remote(pair.serverSide.mr.address(), wrongRkey).add(pair.clientSide.mr, 0, 8));
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

    /**
     * An unsignaled request completes only if it fails (rxe's do_complete posts a completion when
     * the request is signaled or its status is not success): iSER posts a read's RDMA Write
     * unsignaled and learns of it from the Send behind it.
     */
    @Test
    void anUnsignaledRequestCompletesOnlyWhenItFails() throws Exception {
        connect();
        postServerReceives(1);
        pair.clientSide.buffer.set(JAVA_INT_UNALIGNED, 0, 0x5EED_0001);
        MemoryRegion target = pair.serverSide.mr;
        pair.clientSide.qp.postSend(new SendWorkRequest().wrId(11).opcode(SendOpcode.RDMA_WRITE).signaled(false)
                .remote(target.address() + 256, target.rkey()).add(pair.clientSide.mr, 0, 4));
        pair.clientSide.qp.postSend(new SendWorkRequest().wrId(12).add(pair.clientSide.mr, 0, 8));
        WorkCompletion send = pair.clientSide.next();
        assertEquals(12, send.wrId(), "the Send's completion comes first: the write that succeeded has none");
        assertEquals(WorkCompletionStatus.SUCCESS, send.status());
        assertEquals(500, pair.serverSide.next().wrId());
        assertEquals(0x5EED_0001, pair.serverSide.buffer.get(JAVA_INT_UNALIGNED, 256), "the unsignaled write landed");
        pair.clientSide.qp.postSend(new SendWorkRequest().wrId(13).opcode(SendOpcode.RDMA_WRITE).signaled(false)
                .remote(target.address(), target.rkey() ^ 0xFF).add(pair.clientSide.mr, 0, 4));
        WorkCompletion failed = pair.clientSide.next();
        assertEquals(13, failed.wrId(), "a failed unsignaled write completes");
        assertEquals(WorkCompletionStatus.REMOTE_ACCESS_ERROR, failed.status());
    }

    /**
     * A send still queued (its peer had no receive yet) when its region is deregistered fails at
     * the requester when it executes: the provider looks the lkey up then, and never reads memory
     * the registration no longer covers.
     */
    @Test
    void aQueuedSendWhoseRegionWasDeregisteredFailsLocally() throws Exception {
        connect();
        try (Arena arena = Arena.ofConfined()) {
            MemoryRegion gone = pair.clientSide.pd.registerMemory(arena.allocate(256), EnumSet.of(MemoryAccess.LOCAL_WRITE));
            pair.clientSide.qp.postSend(new SendWorkRequest().wrId(14).add(gone, 0, 8));
            gone.close();
            postServerReceives(1);
            WorkCompletion wc = pair.clientSide.next();
            assertEquals(14, wc.wrId());
            assertTrue(UNKNOWN_LKEY.contains(wc.status()), wc.status() + " not in " + UNKNOWN_LKEY);
        }
    }

    @Test
    void unknownLkeyIsALocalError() throws Exception {
        connect();
        postServerReceives(1);
        SendWorkRequest bad = new SendWorkRequest().wrId(5);
        bad.scatterGather().add(pair.clientSide.mr.address(), 8, pair.clientSide.mr.lkey() ^ 0xFF);
        pair.clientSide.qp.postSend(bad);
        WorkCompletion wc = pair.clientSide.next();
        assertEquals(5, wc.wrId());
        assertTrue(UNKNOWN_LKEY.contains(wc.status()), wc.status() + " not in " + UNKNOWN_LKEY);
    }

    @Test
    void receiveTooSmallIsALengthErrorAtTheReceiver() throws Exception {
        connect();
        pair.serverSide.qp.postReceive(new ReceiveWorkRequest().wrId(6).add(pair.serverSide.mr, 0, 16));
        pair.clientSide.qp.postSend(new SendWorkRequest().wrId(7).add(pair.clientSide.mr, 0, 64));
        WorkCompletion receiver = pair.serverSide.next();
        assertEquals(6, receiver.wrId());
        assertTrue(RECEIVE_TOO_SMALL.contains(receiver.status()), receiver.status() + " not in " + RECEIVE_TOO_SMALL);
        WorkCompletion sender = pair.clientSide.next();
        assertEquals(7, sender.wrId());
        assertTrue(RECEIVE_TOO_SMALL_AT_THE_SENDER.contains(sender.status()),
                sender.status() + " not in " + RECEIVE_TOO_SMALL_AT_THE_SENDER);
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

    /**
     * A stream of sends meets receives the other side posts from its own thread, as an iSER
     * connection's two completion threads do: every message arrives once, in order, though the
     * sender often finds no receive yet (and must be woken by the post that brings one).
     */
    @Test
    void sendsMeetReceivesPostedFromAnotherThreadInOrder() throws Exception {
        ConnectedPair p = connect();
        int messages = 1000;
        Duration bound = Duration.ofSeconds(60); // a stall fails it; a loaded machine only slows it
        int slots = 8; // within the pair's 16-deep queues
        int slot = 64;
        AtomicReference<Throwable> receiverFailure = new AtomicReference<>();
        Thread receiver = Thread.ofPlatform().name("contract-receiver").unstarted(() -> {
            WorkCompletion[] batch = {new WorkCompletion(), new WorkCompletion(), new WorkCompletion(), new WorkCompletion()};
            for (int i = 0; i < slots; i++) {
                p.serverSide.qp.postReceive(new ReceiveWorkRequest().wrId(i).add(p.serverSide.mr, (long) i * slot, slot));
            }
            long deadline = System.nanoTime() + bound.toNanos();
            int expected = 0;
            while (expected < messages) {
                if (System.nanoTime() - deadline > 0) {
                    throw new AssertionError("received " + expected + " of " + messages + " messages in " + CmEventRecorder.WAIT);
                }
                int n = p.serverSide.cq.pollSpinning(batch, CompletionQueue.IDLE_SPIN_NANOS);
                for (int i = 0; i < n; i++) {
                    WorkCompletion c = batch[i];
                    if (c.status() != WorkCompletionStatus.SUCCESS) {
                        throw new AssertionError("receive " + c.wrId() + " completed with " + c.status());
                    }
                    long at = c.wrId() * slot;
                    int seq = p.serverSide.buffer.get(JAVA_INT_UNALIGNED, at);
                    if (seq != expected) {
                        throw new AssertionError("message " + seq + " arrived where " + expected + " was due");
                    }
                    expected++;
                    p.serverSide.qp.postReceive(new ReceiveWorkRequest().wrId(c.wrId()).add(p.serverSide.mr, at, slot));
                }
            }
        });
        receiver.setUncaughtExceptionHandler((t, e) -> receiverFailure.set(e));
        receiver.start();
        WorkCompletion[] batch = {new WorkCompletion(), new WorkCompletion(), new WorkCompletion(), new WorkCompletion()};
        long deadline = System.nanoTime() + bound.toNanos();
        int outstanding = 0;
        for (int seq = 0; seq < messages || outstanding > 0; ) {
            assertTrue(System.nanoTime() - deadline < 0, "sent " + seq + " of " + messages + " in " + bound
                    + (receiverFailure.get() == null ? "" : "; the receiver failed: " + receiverFailure.get()));
            if (seq < messages && outstanding < slots) {
                long at = (long) (seq % slots) * slot;
                p.clientSide.buffer.set(JAVA_INT_UNALIGNED, at, seq);
                p.clientSide.qp.postSend(new SendWorkRequest().wrId(seq).add(p.clientSide.mr, at, 4));
                seq++;
                outstanding++;
                continue;
            }
            int n = p.clientSide.cq.pollSpinning(batch, CompletionQueue.IDLE_SPIN_NANOS);
            for (int i = 0; i < n; i++) {
                assertEquals(WorkCompletionStatus.SUCCESS, batch[i].status(), "send " + batch[i].wrId());
            }
            outstanding -= n;
        }
        receiver.join(bound.toMillis());
        assertFalse(receiver.isAlive(), "the receiving thread ended");
        if (receiverFailure.get() != null) {
            throw new AssertionError("the receiving thread failed", receiverFailure.get());
        }
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
    void rnrRetryGivenToAcceptGovernsTheConnectorsSends() throws Exception {
        pair = new ConnectedPair(provider(), listenAddress(), ConnectionParameters.withPrivateData(ConnectedPair.CONNECT_DATA));
        pair.accept(ConnectionParameters.withPrivateData(ConnectedPair.ACCEPT_DATA).withRnrRetryCount(3));
        assertRnrRetryExceeded(pair.clientSide);
    }

    @Test
    void rnrRetryGivenToConnectGovernsTheAcceptorsSends() throws Exception {
        pair = new ConnectedPair(provider(), listenAddress(),
                ConnectionParameters.withPrivateData(ConnectedPair.CONNECT_DATA).withRnrRetryCount(3));
        pair.accept(ConnectionParameters.withPrivateData(ConnectedPair.ACCEPT_DATA));
        assertRnrRetryExceeded(pair.serverSide);
    }

    /** A send from {@code sender} with no receive at the peer fails once its RNR retries run out. */
    private static void assertRnrRetryExceeded(ConnectedPair.Side sender) throws InterruptedException {
        sender.qp.postSend(new SendWorkRequest().wrId(9).add(sender.mr, 0, 8));
        WorkCompletion wc = sender.next();
        assertEquals(9, wc.wrId());
        assertEquals(WorkCompletionStatus.RNR_RETRY_EXCEEDED, wc.status());
    }

    @Test
    void postingSendBeforeConnectionIsRefused() throws Exception {
        InetSocketAddress listening = connect().listener.localAddress();
        CmEventRecorder events = new CmEventRecorder();
        try (CmEventChannel channel = provider().createEventChannel(events)) {
            CmId id = channel.createId();
            try {
                id.resolveAddress(null, listening, Duration.ofSeconds(1));
                events.expect(CmEventType.ADDR_RESOLVED);
                var pd = id.device().allocateProtectionDomain();
                var cq = id.device().createCompletionQueue(4);
                var qp = id.createQueuePair(pd, new QueuePairAttributes(cq, cq, 2, 2, 1, 1));
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
