package io.ostia.rdma.internal.loopback;

import io.ostia.rdma.ConnectionParameters;
import io.ostia.rdma.MemoryAccess;
import io.ostia.rdma.ProtectionDomain;
import io.ostia.rdma.QueuePair;
import io.ostia.rdma.QueuePairAttributes;
import io.ostia.rdma.QueuePairState;
import io.ostia.rdma.RdmaException;
import io.ostia.rdma.ReceiveWorkRequest;
import io.ostia.rdma.ScatterGatherList;
import io.ostia.rdma.SendOpcode;
import io.ostia.rdma.SendWorkRequest;
import io.ostia.rdma.WorkCompletionOpcode;
import io.ostia.rdma.WorkCompletionStatus;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A loopback RC queue pair. Work executes on the posting thread under the fabric lock; a send
 * waits in the queue only while the peer has no receive and RNR retry is unlimited, and the
 * requests behind it wait too (RC keeps order).
 */
final class LoopbackQueuePair implements QueuePair {
    /**
     * One posted work request, copied from the caller's request as an HCA copies it into a work
     * queue entry. Entries are made with the queue pair and reused, so posting allocates nothing.
     */
    private static final class Wqe {
        long wrId;
        SendOpcode opcode;
        boolean signaled;
        boolean solicited;
        int immediate;
        long remoteAddress;
        int rkey;
        final long[] addresses;
        final int[] lengths;
        final int[] lkeys;
        int count;
        long total;
        /** The status a completion fault fails it with, or null to execute it. */
        WorkCompletionStatus injected;

        Wqe(int maxEntries) {
            addresses = new long[maxEntries];
            lengths = new int[maxEntries];
            lkeys = new int[maxEntries];
        }

        void copy(ScatterGatherList sgl) {
            count = sgl.count();
            total = 0;
            for (int i = 0; i < count; i++) {
                addresses[i] = sgl.address(i);
                lengths[i] = sgl.length(i);
                lkeys[i] = sgl.lkey(i);
                total += lengths[i];
            }
        }
    }

    /**
     * A send or receive queue: a ring of its {@link Wqe}s, as deep as the queue pair allows, with
     * one producer side (posters) and one consumer side (execution, under the fabric lock) that
     * meet at the volatile head and tail. An entry is refilled only after the consumer
     * {@link #poll}s it, so the consumer reads it whole until then.
     */
    private static final class WorkQueue {
        private final Wqe[] ring;
        private volatile long head;
        private volatile long tail;

        WorkQueue(int depth, int maxEntries) {
            ring = new Wqe[Math.max(depth, 1)];
            for (int i = 0; i < ring.length; i++) {
                ring[i] = new Wqe(Math.max(maxEntries, 1));
            }
        }

        boolean isFull() {
            return tail - head == ring.length;
        }

        boolean isEmpty() {
            return head == tail;
        }

        /** The entry behind the last one, to fill and then {@link #commit}. */
        Wqe tail() {
            return ring[(int) (tail % ring.length)];
        }

        /** Publishes the filled {@link #tail()} entry to the consumer. */
        void commit() {
            tail = tail + 1;
        }

        /** The oldest entry, or null. */
        Wqe peek() {
            long h = head;
            return h == tail ? null : ring[(int) (h % ring.length)];
        }

        /** Consumes the oldest entry: done with it, the producer may refill it. */
        void poll() {
            head = head + 1;
        }

        void clear() {
            head = tail;
        }
    }

    /** Outcome of one attempt to execute the head of the send queue. */
    private enum Step { DONE, WAIT_FOR_RECEIVE }

    final LoopbackCmId id;
    final LoopbackProtectionDomain pd;
    private final LoopbackCompletionQueue sendCq;
    private final LoopbackCompletionQueue receiveCq;
    private final QueuePairAttributes attributes;
    private final int number;
    private final WorkQueue sendQueue;
    private final WorkQueue receiveQueue;
    /**
     * Serialises posting receives. Receives are posted without the fabric lock (the work that
     * consumes them runs under it), so a receive needs no wait on the peer's sends; the lock nests
     * inside the fabric lock, never around it.
     */
    private final ReentrantLock receiveLock = new ReentrantLock();
    // Written under the fabric lock; volatile for postReceive, which runs without it.
    private volatile QueuePairState state = QueuePairState.INIT;
    private volatile LoopbackQueuePair peer;
    private volatile boolean closed;
    /**
     * Set (fabric lock held) when the head send waits for a receive at the peer; the peer's
     * postReceive, seeing it after publishing its receive, runs this queue pair's sends. The send
     * sets it before looking at the peer's queue again, so one of the two sees the other.
     */
    private volatile boolean waitingForReceive;
    private int rnrRetryCount = ConnectionParameters.RNR_RETRY_FOREVER;

    LoopbackQueuePair(LoopbackCmId id, LoopbackProtectionDomain pd, QueuePairAttributes attributes,
                      LoopbackCompletionQueue sendCq, LoopbackCompletionQueue receiveCq) {
        this.id = id;
        this.pd = pd;
        this.attributes = attributes;
        this.sendCq = sendCq;
        this.receiveCq = receiveCq;
        this.sendQueue = new WorkQueue(attributes.maxSendWorkRequests(), attributes.maxSendScatterGather());
        this.receiveQueue = new WorkQueue(attributes.maxReceiveWorkRequests(), attributes.maxReceiveScatterGather());
        this.number = pd.device.fabric.allocateQpNumber();
        pd.queuePairs.add(this);
        sendCq.queuePairs.add(this);
        receiveCq.queuePairs.add(this);
        pd.device.fabric.openObjects.opened(this);
    }

    private Fabric fabric() {
        return pd.device.fabric;
    }

    @Override
    public int number() {
        return number;
    }

    @Override
    public QueuePairState state() {
        return state;
    }

    @Override
    public ProtectionDomain protectionDomain() {
        return pd;
    }

    /**
     * Links two queue pairs as the two ends of one connection (fabric lock held); each RNR retry
     * count governs the sends of the queue pair it is given with.
     */
    static void connect(LoopbackQueuePair a, int aRnrRetry, LoopbackQueuePair b, int bRnrRetry) {
        a.peer = b;
        b.peer = a;
        a.rnrRetryCount = aRnrRetry;
        b.rnrRetryCount = bRnrRetry;
        a.state = QueuePairState.READY_TO_SEND;
        b.state = QueuePairState.READY_TO_SEND;
    }

    @Override
    public void postSend(SendWorkRequest request) {
        ScatterGatherList sgl = request.scatterGather();
        Fabric.lockSpinning(fabric().lock);
        try {
            requireOpen();
            if (state == QueuePairState.INIT || state == QueuePairState.RESET) {
                throw new IllegalStateException("cannot post a send on " + this + ": it is not connected (state " + state + ")");
            }
            checkSgeCount("send", sgl.count(), attributes.maxSendScatterGather());
            if (sendQueue.isFull()) {
                throw new RdmaException("send queue of " + this + " is full (" + attributes.maxSendWorkRequests() + " outstanding)");
            }
            WorkCompletionStatus injected = injectedFailure(request.opcode().completionOpcode());
            if (state == QueuePairState.ERROR) {
                sendCq.add(request.wrId(), WorkCompletionStatus.FLUSH_ERROR, number, request.opcode().completionOpcode());
                return;
            }
            Wqe send = sendQueue.tail();
            send.wrId = request.wrId();
            send.opcode = request.opcode();
            send.signaled = request.signaled();
            send.solicited = request.solicited();
            send.immediate = request.immediateData();
            send.remoteAddress = request.remoteAddress();
            send.rkey = request.rkey();
            send.copy(sgl);
            send.injected = injected;
            sendQueue.commit();
            pump();
        } finally {
            fabric().lock.unlock();
        }
    }

    @Override
    public void postReceive(ReceiveWorkRequest request) {
        ScatterGatherList sgl = request.scatterGather();
        CompletionFaults faults = fabric().completionFaults;
        // Counted against the failure rules first: they live under the fabric lock, which is
        // never taken inside the receive lock.
        WorkCompletionStatus injected = faults.failing()
                ? fabric().locked(() -> faults.failure(number, WorkCompletionOpcode.RECV)) : null;
        Fabric.lockSpinning(receiveLock);
        try {
            requireOpen();
            checkSgeCount("receive", sgl.count(), attributes.maxReceiveScatterGather());
            if (receiveQueue.isFull()) {
                throw new RdmaException("receive queue of " + this + " is full (" + attributes.maxReceiveWorkRequests() + " outstanding)");
            }
            // In error a receive stays queued and never completes, as on rxe: only the move to
            // error flushes the receive queue.
            Wqe receive = receiveQueue.tail();
            receive.wrId = request.wrId();
            receive.opcode = null;
            receive.copy(sgl);
            receive.injected = injected;
            receiveQueue.commit();
        } finally {
            receiveLock.unlock();
        }
        LoopbackQueuePair sender = peer;
        if (sender != null && sender.waitingForReceive) {
            Fabric.lockSpinning(fabric().lock);
            try {
                if (state == QueuePairState.READY_TO_SEND && peer == sender) {
                    sender.pump();
                }
            } finally {
                fabric().lock.unlock();
            }
        }
    }

    /** The status a completion fault fails a newly posted request of this kind with, or null (fabric lock held). */
    private WorkCompletionStatus injectedFailure(WorkCompletionOpcode kind) {
        CompletionFaults faults = fabric().completionFaults;
        return faults.failing() ? faults.failure(number, kind) : null;
    }

    private void checkSgeCount(String kind, int count, int max) {
        if (count > max) {
            throw new RdmaException(kind + " request has " + count + " scatter/gather entries; " + this + " allows " + max);
        }
    }

    @Override
    public void moveToError() {
        fabric().lock.lock();
        try {
            if (!closed) {
                toError();
            }
        } finally {
            fabric().lock.unlock();
        }
    }

    /** Error state: every outstanding request completes with a flush error, sends first. */
    void toError() {
        if (state == QueuePairState.ERROR) {
            return;
        }
        state = QueuePairState.ERROR;
        for (Wqe send = sendQueue.peek(); send != null; send = sendQueue.peek()) {
            sendQueue.poll();
            sendCq.add(send.wrId, WorkCompletionStatus.FLUSH_ERROR, number, send.opcode.completionOpcode());
        }
        for (Wqe receive = receiveQueue.peek(); receive != null; receive = receiveQueue.peek()) {
            long wrId = receive.wrId; // read before poll lets a poster refill the entry
            receiveQueue.poll();
            receiveCq.add(wrId, WorkCompletionStatus.FLUSH_ERROR, number, WorkCompletionOpcode.RECV);
        }
    }

    /** Executes queued sends in order until done or one must wait for a receive at the peer. */
    private void pump() {
        waitingForReceive = false;
        while (state == QueuePairState.READY_TO_SEND && !sendQueue.isEmpty()) {
            Wqe head = sendQueue.peek();
            if (execute(head) == Step.WAIT_FOR_RECEIVE) {
                return;
            }
            if (sendQueue.peek() == head) {
                sendQueue.poll();
            }
        }
    }

    private Step execute(Wqe send) {
        if (send.injected != null) {
            failRequester(send, send.injected, false);
            return Step.DONE;
        }
        boolean readsIntoLocal = send.opcode == SendOpcode.RDMA_READ;
        if (!checkLocal(pd, send, readsIntoLocal)) {
            failRequester(send, WorkCompletionStatus.LOCAL_PROTECTION_ERROR, false);
            return Step.DONE;
        }
        LoopbackQueuePair responder = peer;
        if (responder == null || responder.closed || responder.state != QueuePairState.READY_TO_SEND) {
            // Nobody answers: the transport retries run out.
            failRequester(send, WorkCompletionStatus.RETRY_EXCEEDED, false);
            return Step.DONE;
        }
        int length = (int) send.total;
        if (send.opcode.isRdma()) {
            MemoryAccess right = readsIntoLocal ? MemoryAccess.REMOTE_READ : MemoryAccess.REMOTE_WRITE;
            LoopbackMemoryRegion target = responder.pd.byRkey.get(send.rkey);
            if (target == null || !target.access().contains(right) || !target.contains(send.remoteAddress, length)) {
                failRequester(send, WorkCompletionStatus.REMOTE_ACCESS_ERROR, true);
                return Step.DONE;
            }
        }
        Wqe receive = null;
        boolean consumesReceive = send.opcode == SendOpcode.SEND || send.opcode.hasImmediate();
        if (consumesReceive) {
            receive = responder.receiveQueue.peek();
            if (receive == null && rnrRetryCount == ConnectionParameters.RNR_RETRY_FOREVER) {
                waitingForReceive = true;
                receive = responder.receiveQueue.peek(); // one posted meanwhile may not have seen the flag
                if (receive == null) {
                    return Step.WAIT_FOR_RECEIVE;
                }
                waitingForReceive = false;
            }
            if (receive == null) {
                failRequester(send, WorkCompletionStatus.RNR_RETRY_EXCEEDED, false);
                return Step.DONE;
            }
            long receiveId = receive.wrId;
            if (!checkLocal(responder.pd, receive, true)) {
                responder.receiveQueue.poll();
                responder.receiveCq.add(receiveId, WorkCompletionStatus.LOCAL_PROTECTION_ERROR, responder.number,
                        WorkCompletionOpcode.RECV);
                responder.toError();
                failRequester(send, WorkCompletionStatus.REMOTE_OPERATION_ERROR, false);
                return Step.DONE;
            }
            if (send.opcode != SendOpcode.RDMA_WRITE_WITH_IMMEDIATE && receive.total < length) {
                responder.receiveQueue.poll();
                responder.receiveCq.add(receiveId, WorkCompletionStatus.LOCAL_LENGTH_ERROR, responder.number,
                        WorkCompletionOpcode.RECV);
                responder.toError();
                failRequester(send, WorkCompletionStatus.REMOTE_INVALID_REQUEST_ERROR, false);
                return Step.DONE;
            }
            if (receive.injected != null) {
                // The receive fails at the responder as a local error would; the requester learns it remotely.
                WorkCompletionStatus injected = receive.injected;
                responder.receiveQueue.poll();
                responder.receiveCq.add(receiveId, injected, responder.number, WorkCompletionOpcode.RECV);
                responder.toError();
                failRequester(send, WorkCompletionStatus.REMOTE_OPERATION_ERROR, false);
                return Step.DONE;
            }
        }
        switch (send.opcode) {
            case SEND, SEND_WITH_IMMEDIATE -> copy(pd, send, responder.pd, receive);
            case RDMA_WRITE, RDMA_WRITE_WITH_IMMEDIATE -> gather(pd, send, responder.pd.byRkey.get(send.rkey), send.remoteAddress);
            case RDMA_READ -> scatter(responder.pd.byRkey.get(send.rkey), send.remoteAddress, length, pd, send);
        }
        if (receive != null) {
            long receiveId = receive.wrId;
            responder.receiveQueue.poll(); // only now: a poster may refill the entry once it is polled
            WorkCompletionOpcode op = send.opcode == SendOpcode.RDMA_WRITE_WITH_IMMEDIATE
                    ? WorkCompletionOpcode.RECV_RDMA_WITH_IMMEDIATE : WorkCompletionOpcode.RECV;
            responder.receiveCq.add(receiveId, WorkCompletionStatus.SUCCESS, op, length,
                    send.opcode.hasImmediate(), send.immediate, responder.number, send.solicited, WorkCompletionOpcode.RECV);
        }
        if (send.signaled) {
            sendCq.add(send.wrId, WorkCompletionStatus.SUCCESS, send.opcode.completionOpcode(),
                    send.opcode == SendOpcode.RDMA_READ ? length : 0, false, 0, number, false,
                    send.opcode.completionOpcode());
        }
        return Step.DONE;
    }

    /** Reports an error on the requester side; the requester (and for remote access errors the responder) goes to error. */
    private void failRequester(Wqe send, WorkCompletionStatus status, boolean responderToo) {
        sendQueue.poll();
        sendCq.add(send.wrId, status, number, send.opcode.completionOpcode());
        if (responderToo && peer != null) {
            peer.toError();
        }
        // The failed request is off the queue already; toError flushes those behind it.
        toError();
    }

    private static boolean checkLocal(LoopbackProtectionDomain pd, Wqe wqe, boolean writes) {
        for (int i = 0; i < wqe.count; i++) {
            LoopbackMemoryRegion mr = pd.byLkey.get(wqe.lkeys[i]);
            if (mr == null || !mr.contains(wqe.addresses[i], wqe.lengths[i])
                    || (writes && !mr.access().contains(MemoryAccess.LOCAL_WRITE))) {
                return false;
            }
        }
        return true;
    }

    // The copies below address the regions' segments by offset: as DMA, no view is made per request.

    /** Entry i's region (checked by checkLocal). */
    private static LoopbackMemoryRegion region(LoopbackProtectionDomain pd, Wqe wqe, int i) {
        return pd.byLkey.get(wqe.lkeys[i]);
    }

    /** A gather list into a remote region at {@code remoteAddress} (checked before). */
    private static void gather(LoopbackProtectionDomain pd, Wqe from, LoopbackMemoryRegion to, long remoteAddress) {
        long into = remoteAddress - to.address();
        for (int i = 0; i < from.count; i++) {
            LoopbackMemoryRegion mr = region(pd, from, i);
            MemorySegment.copy(mr.segment(), from.addresses[i] - mr.address(), to.segment(), into, from.lengths[i]);
            into += from.lengths[i];
        }
    }

    /** {@code length} bytes of a remote region at {@code remoteAddress} into a scatter list. */
    private static void scatter(LoopbackMemoryRegion from, long remoteAddress, long length, LoopbackProtectionDomain pd,
                                Wqe to) {
        long at = remoteAddress - from.address();
        long offset = 0;
        for (int i = 0; i < to.count && offset < length; i++) {
            long n = Math.min(to.lengths[i], length - offset);
            LoopbackMemoryRegion mr = region(pd, to, i);
            MemorySegment.copy(from.segment(), at + offset, mr.segment(), to.addresses[i] - mr.address(), n);
            offset += n;
        }
    }

    /**
     * A Send's gather list into a receive's scatter list (which holds it all, checked before),
     * piece by piece, without a staging array per message.
     */
    private static void copy(LoopbackProtectionDomain fromPd, Wqe from, LoopbackProtectionDomain toPd, Wqe to) {
        int j = 0;
        long into = 0;
        for (int i = 0; i < from.count; i++) {
            LoopbackMemoryRegion source = region(fromPd, from, i);
            long sourceAt = from.addresses[i] - source.address();
            long done = 0;
            while (done < from.lengths[i]) {
                long n = Math.min(from.lengths[i] - done, to.lengths[j] - into);
                if (n > 0) {
                    LoopbackMemoryRegion sink = region(toPd, to, j);
                    MemorySegment.copy(source.segment(), sourceAt + done, sink.segment(),
                            to.addresses[j] - sink.address() + into, n);
                    done += n;
                    into += n;
                }
                if (into == to.lengths[j]) {
                    j++;
                    into = 0;
                }
            }
        }
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException(this + " is closed");
        }
    }

    /** The peer connection is gone (fabric lock held). */
    void unlinkPeer() {
        peer = null;
    }

    @Override
    public void close() {
        fabric().lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            sendQueue.clear();
            receiveLock.lock();
            try {
                receiveQueue.clear();
            } finally {
                receiveLock.unlock();
            }
            if (peer != null) {
                peer.unlinkPeer();
                peer = null;
            }
            pd.queuePairs.remove(this);
            sendCq.queuePairs.remove(this);
            receiveCq.queuePairs.remove(this);
            id.queuePairClosed(this);
            fabric().openObjects.closed(this);
        } finally {
            fabric().lock.unlock();
        }
    }

    @Override
    public boolean isClosed() {
        return closed;
    }

    @Override
    public String toString() {
        return "queue pair 0x" + Integer.toHexString(number) + " on " + pd.device.name();
    }
}
