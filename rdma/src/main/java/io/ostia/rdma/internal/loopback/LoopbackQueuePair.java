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
import io.ostia.rdma.internal.loopback.LoopbackCompletionQueue.Completion;

import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;

/**
 * A loopback RC queue pair. Work executes on the posting thread under the fabric lock; a send
 * waits in the queue only while the peer has no receive and RNR retry is unlimited, and the
 * requests behind it wait too (RC keeps order).
 */
final class LoopbackQueuePair implements QueuePair {
    /** Copy of a posted scatter/gather list. */
    private record Sges(long[] addresses, int[] lengths, int[] lkeys, long total) {
        static Sges of(ScatterGatherList sgl) {
            int n = sgl.count();
            long[] a = new long[n];
            int[] l = new int[n];
            int[] k = new int[n];
            long total = 0;
            for (int i = 0; i < n; i++) {
                a[i] = sgl.address(i);
                l[i] = sgl.length(i);
                k[i] = sgl.lkey(i);
                total += l[i];
            }
            return new Sges(a, l, k, total);
        }
    }

    /** @param injected the status a fault fails it with, or null to execute it */
    private record Send(long wrId, SendOpcode opcode, boolean signaled, boolean solicited, int immediate,
                        long remoteAddress, int rkey, Sges sges, WorkCompletionStatus injected) {
    }

    /** @param injected the status a fault fails it with when a message arrives, or null */
    private record Receive(long wrId, Sges sges, WorkCompletionStatus injected) {
    }

    /** Outcome of one attempt to execute the head of the send queue. */
    private enum Step { DONE, WAIT_FOR_RECEIVE }

    final LoopbackCmId id;
    final LoopbackProtectionDomain pd;
    private final LoopbackCompletionQueue sendCq;
    private final LoopbackCompletionQueue receiveCq;
    private final QueuePairAttributes attributes;
    private final int number;
    private final ArrayDeque<Send> sendQueue = new ArrayDeque<>();
    private final ArrayDeque<Receive> receiveQueue = new ArrayDeque<>();
    private QueuePairState state = QueuePairState.INIT;
    private LoopbackQueuePair peer;
    private int rnrRetryCount = ConnectionParameters.RNR_RETRY_FOREVER;
    private boolean closed;

    LoopbackQueuePair(LoopbackCmId id, LoopbackProtectionDomain pd, QueuePairAttributes attributes,
                      LoopbackCompletionQueue sendCq, LoopbackCompletionQueue receiveCq) {
        this.id = id;
        this.pd = pd;
        this.attributes = attributes;
        this.sendCq = sendCq;
        this.receiveCq = receiveCq;
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
        return fabric().locked(() -> state);
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
        fabric().lock.lock();
        try {
            requireOpen();
            if (state == QueuePairState.INIT || state == QueuePairState.RESET) {
                throw new IllegalStateException("cannot post a send on " + this + ": it is not connected (state " + state + ")");
            }
            checkSgeCount("send", sgl.count(), attributes.maxSendScatterGather());
            if (sendQueue.size() >= attributes.maxSendWorkRequests()) {
                throw new RdmaException("send queue of " + this + " is full (" + attributes.maxSendWorkRequests() + " outstanding)");
            }
            Send send = new Send(request.wrId(), request.opcode(), request.signaled(), request.solicited(),
                    request.immediateData(), request.remoteAddress(), request.rkey(), Sges.of(sgl),
                    injectedFailure(request.opcode().completionOpcode()));
            if (state == QueuePairState.ERROR) {
                sendCq.add(flushed(send));
                return;
            }
            sendQueue.add(send);
            pump();
        } finally {
            fabric().lock.unlock();
        }
    }

    @Override
    public void postReceive(ReceiveWorkRequest request) {
        ScatterGatherList sgl = request.scatterGather();
        fabric().lock.lock();
        try {
            requireOpen();
            checkSgeCount("receive", sgl.count(), attributes.maxReceiveScatterGather());
            if (receiveQueue.size() >= attributes.maxReceiveWorkRequests()) {
                throw new RdmaException("receive queue of " + this + " is full (" + attributes.maxReceiveWorkRequests() + " outstanding)");
            }
            // In error a receive stays queued and never completes, as on rxe: only the move to
            // error flushes the receive queue.
            receiveQueue.add(new Receive(request.wrId(), Sges.of(sgl), injectedFailure(WorkCompletionOpcode.RECV)));
            if (state == QueuePairState.READY_TO_SEND && peer != null) {
                peer.pump();
            }
        } finally {
            fabric().lock.unlock();
        }
    }

    /** The status a completion fault fails a newly posted request of this kind with, or null. */
    private WorkCompletionStatus injectedFailure(WorkCompletionOpcode kind) {
        CompletionFaults faults = fabric().completionFaults;
        return faults.fails() ? faults.failure(number, kind) : null;
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
        while (!sendQueue.isEmpty()) {
            sendCq.add(flushed(sendQueue.poll()));
        }
        while (!receiveQueue.isEmpty()) {
            receiveCq.add(flushed(receiveQueue.poll()));
        }
    }

    private Completion flushed(Send send) {
        return error(send.wrId, WorkCompletionStatus.FLUSH_ERROR, number, send.opcode.completionOpcode());
    }

    private Completion flushed(Receive receive) {
        return error(receive.wrId, WorkCompletionStatus.FLUSH_ERROR, number, WorkCompletionOpcode.RECV);
    }

    /** Executes queued sends in order until done or one must wait for a receive at the peer. */
    private void pump() {
        while (state == QueuePairState.READY_TO_SEND && !sendQueue.isEmpty()) {
            Send head = sendQueue.peek();
            if (execute(head) == Step.WAIT_FOR_RECEIVE) {
                return;
            }
            if (sendQueue.peek() == head) {
                sendQueue.poll();
            }
        }
    }

    private Step execute(Send send) {
        if (send.injected != null) {
            failRequester(send, send.injected, false);
            return Step.DONE;
        }
        boolean readsIntoLocal = send.opcode == SendOpcode.RDMA_READ;
        if (!checkLocal(pd, send.sges, readsIntoLocal)) {
            failRequester(send, WorkCompletionStatus.LOCAL_PROTECTION_ERROR, false);
            return Step.DONE;
        }
        LoopbackQueuePair responder = peer;
        if (responder == null || responder.closed || responder.state != QueuePairState.READY_TO_SEND) {
            // Nobody answers: the transport retries run out.
            failRequester(send, WorkCompletionStatus.RETRY_EXCEEDED, false);
            return Step.DONE;
        }
        int length = (int) send.sges.total;
        if (send.opcode.isRdma()) {
            MemoryAccess right = readsIntoLocal ? MemoryAccess.REMOTE_READ : MemoryAccess.REMOTE_WRITE;
            LoopbackMemoryRegion target = responder.pd.byRkey.get(send.rkey);
            if (target == null || !target.access().contains(right) || !target.contains(send.remoteAddress, length)) {
                failRequester(send, WorkCompletionStatus.REMOTE_ACCESS_ERROR, true);
                return Step.DONE;
            }
        }
        Receive receive = null;
        boolean consumesReceive = send.opcode == SendOpcode.SEND || send.opcode.hasImmediate();
        if (consumesReceive) {
            receive = responder.receiveQueue.peek();
            if (receive == null) {
                if (rnrRetryCount == ConnectionParameters.RNR_RETRY_FOREVER) {
                    return Step.WAIT_FOR_RECEIVE;
                }
                failRequester(send, WorkCompletionStatus.RNR_RETRY_EXCEEDED, false);
                return Step.DONE;
            }
            if (!checkLocal(responder.pd, receive.sges, true)) {
                responder.receiveQueue.poll();
                responder.receiveCq.add(error(receive.wrId, WorkCompletionStatus.LOCAL_PROTECTION_ERROR, responder.number,
                        WorkCompletionOpcode.RECV));
                responder.toError();
                failRequester(send, WorkCompletionStatus.REMOTE_OPERATION_ERROR, false);
                return Step.DONE;
            }
            if (send.opcode != SendOpcode.RDMA_WRITE_WITH_IMMEDIATE && receive.sges.total < length) {
                responder.receiveQueue.poll();
                responder.receiveCq.add(error(receive.wrId, WorkCompletionStatus.LOCAL_LENGTH_ERROR, responder.number,
                        WorkCompletionOpcode.RECV));
                responder.toError();
                failRequester(send, WorkCompletionStatus.REMOTE_INVALID_REQUEST_ERROR, false);
                return Step.DONE;
            }
            if (receive.injected != null) {
                // The receive fails at the responder as a local error would; the requester learns it remotely.
                responder.receiveQueue.poll();
                responder.receiveCq.add(error(receive.wrId, receive.injected, responder.number, WorkCompletionOpcode.RECV));
                responder.toError();
                failRequester(send, WorkCompletionStatus.REMOTE_OPERATION_ERROR, false);
                return Step.DONE;
            }
            responder.receiveQueue.poll();
        }
        switch (send.opcode) {
            case SEND, SEND_WITH_IMMEDIATE -> copy(pd, send.sges, responder.pd, receive.sges);
            case RDMA_WRITE, RDMA_WRITE_WITH_IMMEDIATE -> gather(pd, send.sges,
                    responder.pd.byRkey.get(send.rkey).slice(send.remoteAddress, length));
            case RDMA_READ -> scatter(responder.pd.byRkey.get(send.rkey).slice(send.remoteAddress, length), pd, send.sges);
        }
        if (receive != null) {
            WorkCompletionOpcode op = send.opcode == SendOpcode.RDMA_WRITE_WITH_IMMEDIATE
                    ? WorkCompletionOpcode.RECV_RDMA_WITH_IMMEDIATE : WorkCompletionOpcode.RECV;
            responder.receiveCq.add(new Completion(receive.wrId, WorkCompletionStatus.SUCCESS, op, length,
                    send.opcode.hasImmediate(), send.immediate, responder.number, send.solicited, WorkCompletionOpcode.RECV));
        }
        if (send.signaled) {
            sendCq.add(new Completion(send.wrId, WorkCompletionStatus.SUCCESS, send.opcode.completionOpcode(),
                    send.opcode == SendOpcode.RDMA_READ ? length : 0, false, 0, number, false,
                    send.opcode.completionOpcode()));
        }
        return Step.DONE;
    }

    /** Reports an error on the requester side; the requester (and for remote access errors the responder) goes to error. */
    private void failRequester(Send send, WorkCompletionStatus status, boolean responderToo) {
        sendQueue.poll();
        sendCq.add(error(send.wrId, status, number, send.opcode.completionOpcode()));
        if (responderToo && peer != null) {
            peer.toError();
        }
        // The failed request is off the queue already; toError flushes those behind it.
        toError();
    }

    private static Completion error(long wrId, WorkCompletionStatus status, int qpNumber, WorkCompletionOpcode kind) {
        return new Completion(wrId, status, WorkCompletionOpcode.UNKNOWN, 0, false, 0, qpNumber, false, kind);
    }

    private static boolean checkLocal(LoopbackProtectionDomain pd, Sges sges, boolean writes) {
        for (int i = 0; i < sges.addresses.length; i++) {
            LoopbackMemoryRegion mr = pd.byLkey.get(sges.lkeys[i]);
            if (mr == null || !mr.contains(sges.addresses[i], sges.lengths[i])
                    || (writes && !mr.access().contains(MemoryAccess.LOCAL_WRITE))) {
                return false;
            }
        }
        return true;
    }

    private static MemorySegment local(LoopbackProtectionDomain pd, Sges sges, int i) {
        return pd.byLkey.get(sges.lkeys[i]).slice(sges.addresses[i], sges.lengths[i]);
    }

    private static void gather(LoopbackProtectionDomain pd, Sges from, MemorySegment to) {
        long offset = 0;
        for (int i = 0; i < from.addresses.length; i++) {
            MemorySegment.copy(local(pd, from, i), 0, to, offset, from.lengths[i]);
            offset += from.lengths[i];
        }
    }

    private static void scatter(MemorySegment from, LoopbackProtectionDomain pd, Sges to) {
        long offset = 0;
        for (int i = 0; i < to.addresses.length && offset < from.byteSize(); i++) {
            long n = Math.min(to.lengths[i], from.byteSize() - offset);
            MemorySegment.copy(from, offset, local(pd, to, i), 0, n);
            offset += n;
        }
    }

    /**
     * A Send's gather list into a receive's scatter list (which holds it all, checked before),
     * piece by piece, without a staging array per message.
     */
    private static void copy(LoopbackProtectionDomain fromPd, Sges from, LoopbackProtectionDomain toPd, Sges to) {
        int j = 0;
        long into = 0;
        for (int i = 0; i < from.addresses.length; i++) {
            long done = 0;
            while (done < from.lengths[i]) {
                long n = Math.min(from.lengths[i] - done, to.lengths[j] - into);
                if (n > 0) {
                    MemorySegment.copy(local(fromPd, from, i), done, local(toPd, to, j), into, n);
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
            receiveQueue.clear();
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
        return fabric().lockedTest(() -> closed);
    }

    @Override
    public String toString() {
        return "queue pair 0x" + Integer.toHexString(number) + " on " + pd.device.name();
    }
}
