package io.ostia.rdma.internal.ffm;

import io.ostia.rdma.ProtectionDomain;
import io.ostia.rdma.QueuePair;
import io.ostia.rdma.QueuePairAttributes;
import io.ostia.rdma.QueuePairState;
import io.ostia.rdma.RdmaException;
import io.ostia.rdma.ReceiveWorkRequest;
import io.ostia.rdma.SendWorkRequest;
import io.ostia.rdma.internal.ffm.gen.Verbs;
import io.ostia.rdma.internal.ffm.gen.ibv_qp;
import io.ostia.rdma.internal.ffm.gen.ibv_qp_attr;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.locks.ReentrantLock;

/** A queue pair created by {@code rdma_create_qp} on a {@link NativeCmId}, which destroys it. */
final class NativeQueuePair implements QueuePair {
    private static final QueuePairState[] STATES = QueuePairState.values();

    private final NativeCmId id;
    private final NativeProtectionDomain pd;
    private final NativeCompletionQueue sendCq;
    private final NativeCompletionQueue receiveCq;
    private final QueuePairAttributes attributes;
    private final MemorySegment qp;
    private final Calls calls;
    private final Arena arena = Arena.ofShared();
    private final DataPath.Poster poster;
    private final ReentrantLock sendLock = new ReentrantLock();
    private final ReentrantLock receiveLock = new ReentrantLock();
    private final int number;
    private volatile boolean closed;

    NativeQueuePair(NativeCmId id, NativeProtectionDomain pd, QueuePairAttributes attributes,
                    NativeCompletionQueue sendCq, NativeCompletionQueue receiveCq, MemorySegment qpPointer) {
        this.id = id;
        this.pd = pd;
        this.attributes = attributes;
        this.sendCq = sendCq;
        this.receiveCq = receiveCq;
        this.qp = NativeAccess.struct(qpPointer, ibv_qp.layout());
        this.calls = pd.device.calls;
        this.poster = new DataPath.Poster(qpPointer, arena);
        this.number = ibv_qp.qp_num(qp);
        pd.queuePairs.add(this);
        sendCq.queuePairs.add(this);
        receiveCq.queuePairs.add(this);
        pd.device.provider.openObjects.opened(this);
    }

    @Override
    public int number() {
        return number;
    }

    /** The QP's state as libibverbs caches it; a value it does not define reads as ERROR. */
    private QueuePairState decodeState() {
        int s = ibv_qp.state(qp);
        return s >= 0 && s < STATES.length ? STATES[s] : QueuePairState.ERROR;
    }

    @Override
    public QueuePairState state() {
        sendLock.lock();
        try {
            requireOpen();
            return decodeState();
        } finally {
            sendLock.unlock();
        }
    }

    @Override
    public ProtectionDomain protectionDomain() {
        return pd;
    }

    @Override
    public void postSend(SendWorkRequest request) {
        checkSges("send", request.scatterGather().count(), attributes.maxSendScatterGather());
        sendLock.lock();
        try {
            requireOpen();
            QueuePairState state = decodeState();
            if (state == QueuePairState.RESET || state == QueuePairState.INIT || state == QueuePairState.READY_TO_RECEIVE) {
                throw new IllegalStateException("cannot post a send on " + this + ": it is not connected (state "
                        + state + ")");
            }
            int rc = poster.postSend(request);
            if (rc != 0) {
                throw NativeAccess.failure("ibv_post_send", rc);
            }
        } finally {
            sendLock.unlock();
        }
    }

    @Override
    public void postReceive(ReceiveWorkRequest request) {
        checkSges("receive", request.scatterGather().count(), attributes.maxReceiveScatterGather());
        receiveLock.lock();
        try {
            requireOpen();
            int rc = poster.postReceive(request);
            if (rc != 0) {
                throw NativeAccess.failure("ibv_post_recv", rc);
            }
        } finally {
            receiveLock.unlock();
        }
    }

    private void checkSges(String kind, int count, int max) {
        if (count > max) {
            throw new RdmaException(kind + " request has " + count + " scatter/gather entries; " + this + " allows " + max);
        }
    }

    @Override
    public void moveToError() {
        sendLock.lock();
        try (Arena call = Arena.ofConfined()) {
            if (closed || ibv_qp.state(qp) == Verbs.IBV_QPS_ERR()) {
                return;
            }
            MemorySegment attr = call.allocate(ibv_qp_attr.layout());
            ibv_qp_attr.qp_state(attr, Verbs.IBV_QPS_ERR());
            calls.ibvModifyQp.invokeReturningErrno(qp, attr, Verbs.IBV_QP_STATE());
        } finally {
            sendLock.unlock();
        }
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException(this + " is closed");
        }
    }

    @Override
    public void close() {
        // Once closed is set under both locks no call is in flight or can start; the destroy
        // then runs without them, because the id's monitor is taken before them elsewhere.
        sendLock.lock();
        receiveLock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
        } finally {
            receiveLock.unlock();
            sendLock.unlock();
        }
        try {
            id.destroyQueuePair(this);
        } finally {
            pd.queuePairs.remove(this);
            sendCq.queuePairs.remove(this);
            receiveCq.queuePairs.remove(this);
            arena.close();
            pd.device.provider.openObjects.closed(this);
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
