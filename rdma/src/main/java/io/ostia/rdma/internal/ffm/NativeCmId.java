package io.ostia.rdma.internal.ffm;

import io.ostia.rdma.CmEventChannel;
import io.ostia.rdma.CmEventType;
import io.ostia.rdma.CmId;
import io.ostia.rdma.ConnectionParameters;
import io.ostia.rdma.ProtectionDomain;
import io.ostia.rdma.QueuePair;
import io.ostia.rdma.QueuePairAttributes;
import io.ostia.rdma.RdmaDevice;
import io.ostia.rdma.RdmaResource;
import io.ostia.rdma.internal.OpenObjects;
import io.ostia.rdma.internal.ffm.gen.Verbs;
import io.ostia.rdma.internal.ffm.gen.ibv_qp_cap;
import io.ostia.rdma.internal.ffm.gen.ibv_qp_init_attr;
import io.ostia.rdma.internal.ffm.gen.rdma_addr;
import io.ostia.rdma.internal.ffm.gen.rdma_cm_id;
import io.ostia.rdma.internal.ffm.gen.rdma_conn_param;
import io.ostia.rdma.internal.ffm.gen.rdma_route;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/** Owns one {@code rdma_cm_id}. */
final class NativeCmId implements CmId {
    private final NativeEventChannel channel;
    private final MemorySegment id;
    private final Calls calls;
    private final long serial;
    private NativeQueuePair queuePair;
    /**
     * ESTABLISHED was seen and this side has not called rdma_disconnect yet: decides whether
     * disconnect calls it. DISCONNECTED does not clear it: the side told of the peer's disconnect
     * must still call rdma_disconnect, which answers the peer (IB CM DREP); without the answer the
     * peer gets no DISCONNECTED and neither side reaches TIMEWAIT_EXIT.
     */
    private volatile boolean connected;
    private boolean closed;

    NativeCmId(NativeEventChannel channel, MemorySegment idPointer) {
        this.channel = channel;
        this.calls = channel.provider.calls();
        this.id = NativeAccess.struct(idPointer, rdma_cm_id.layout());
        this.serial = channel.provider.openObjects.nextSerial();
        channel.provider.openObjects.opened(this);
    }

    /** Called on the event thread before the handler sees the event. */
    void observe(CmEventType type) {
        NativeDevice device = watchDevice();
        switch (type) {
            case ESTABLISHED -> connected = true;
            case DEVICE_REMOVAL -> {
                // The kernel closes its side of the id now: rdma_disconnect would fail (ENXIO).
                connected = false;
                if (device != null) {
                    device.markRemoved();
                }
            }
            default -> { }
        }
    }

    /**
     * The device librdmacm bound this id to, now watched (null if none yet): librdmacm keeps
     * its context open after the id is gone, and only the watcher gets it closed on removal.
     */
    private NativeDevice watchDevice() {
        MemorySegment verbs = rdma_cm_id.verbs(id);
        return verbs.equals(MemorySegment.NULL) ? null : channel.provider.device(verbs);
    }

    @Override
    public CmEventChannel channel() {
        return channel;
    }

    @Override
    public synchronized RdmaDevice device() {
        requireOpen();
        MemorySegment verbs = rdma_cm_id.verbs(id);
        if (verbs.equals(MemorySegment.NULL)) {
            throw new IllegalStateException(this + " has no device yet; resolve an address first");
        }
        return channel.provider.device(verbs);
    }

    @Override
    public synchronized void resolveAddress(InetSocketAddress source, InetSocketAddress destination, Duration timeout) {
        Objects.requireNonNull(destination, "destination");
        requireOpen();
        try (Arena call = Arena.ofConfined()) {
            MemorySegment src = source == null ? MemorySegment.NULL : SocketAddresses.toNative(source, call);
            calls.rdmaResolveAddr.invokeInt(id, src, SocketAddresses.toNative(destination, call), timeoutMillis(timeout));
        }
    }

    @Override
    public synchronized void resolveRoute(Duration timeout) {
        requireOpen();
        calls.rdmaResolveRoute.invokeInt(id, timeoutMillis(timeout));
    }

    @Override
    public synchronized void bind(InetSocketAddress address) {
        Objects.requireNonNull(address, "address");
        requireOpen();
        try (Arena call = Arena.ofConfined()) {
            calls.rdmaBindAddr.invokeInt(id, SocketAddresses.toNative(address, call));
        }
        watchDevice(); // librdmacm opened the device's context for the bind
    }

    @Override
    public synchronized void listen(int backlog) {
        if (backlog < 0) {
            throw new IllegalArgumentException("backlog must not be negative: " + backlog);
        }
        requireOpen();
        calls.rdmaListen.invokeInt(id, backlog);
    }

    @Override
    public synchronized InetSocketAddress localAddress() {
        requireOpen();
        return SocketAddresses.fromNative(rdma_addr.src_storage(routeAddress()));
    }

    @Override
    public synchronized InetSocketAddress remoteAddress() {
        requireOpen();
        return SocketAddresses.fromNative(rdma_addr.dst_storage(routeAddress()));
    }

    private MemorySegment routeAddress() {
        return rdma_route.addr(rdma_cm_id.route(id));
    }

    @Override
    public synchronized QueuePair createQueuePair(ProtectionDomain pd, QueuePairAttributes attributes) {
        Objects.requireNonNull(attributes, "attributes");
        requireOpen();
        if (queuePair != null) {
            throw new IllegalStateException(this + " has a queue pair already: " + queuePair);
        }
        NativeProtectionDomain npd = open(pd, NativeProtectionDomain.class, "protection domain");
        NativeCompletionQueue sendCq = open(attributes.sendCompletionQueue(), NativeCompletionQueue.class, "send completion queue");
        NativeCompletionQueue recvCq = open(attributes.receiveCompletionQueue(), NativeCompletionQueue.class, "receive completion queue");
        RdmaDevice device = device();
        if (npd.device != device || sendCq.device != device || recvCq.device != device) {
            throw new IllegalArgumentException("the protection domain (" + npd.device + ") and completion queues ("
                    + sendCq.device + ", " + recvCq.device + ") must be on " + this + "'s device, " + device);
        }
        // The domain and queues must not close while the queue pair is created on them.
        queuePair = npd.whileOpen(() -> sendCq.whileOpen(() -> recvCq.whileOpen(() -> {
            try (Arena call = Arena.ofConfined()) {
                MemorySegment init = call.allocate(ibv_qp_init_attr.layout());
                ibv_qp_init_attr.send_cq(init, sendCq.cq);
                ibv_qp_init_attr.recv_cq(init, recvCq.cq);
                MemorySegment cap = ibv_qp_init_attr.cap(init);
                ibv_qp_cap.max_send_wr(cap, attributes.maxSendWorkRequests());
                ibv_qp_cap.max_recv_wr(cap, attributes.maxReceiveWorkRequests());
                ibv_qp_cap.max_send_sge(cap, attributes.maxSendScatterGather());
                ibv_qp_cap.max_recv_sge(cap, attributes.maxReceiveScatterGather());
                ibv_qp_init_attr.qp_type(init, Verbs.IBV_QPT_RC());
                calls.rdmaCreateQp.invokeInt(id, npd.pd, init);
            }
            try {
                return new NativeQueuePair(this, npd, attributes, sendCq, recvCq, rdma_cm_id.qp(id));
            } catch (RuntimeException e) {
                try {
                    calls.rdmaDestroyQp.invokeUnchecked(id); // nobody else owns it yet
                } catch (RuntimeException cleanup) {
                    e.addSuppressed(cleanup);
                }
                throw e;
            }
        })));
        return queuePair;
    }

    private static <T> T open(Object object, Class<T> type, String what) {
        if (!type.isInstance(object) || ((RdmaResource) object).isClosed()) {
            throw new IllegalArgumentException("the " + what + " must be an open object of the native provider: " + object);
        }
        return type.cast(object);
    }

    /** Called by the queue pair's close. */
    synchronized void destroyQueuePair(NativeQueuePair qp) {
        if (queuePair == qp) {
            calls.rdmaDestroyQp.invokeUnchecked(id);
            queuePair = null;
        }
    }

    @Override
    public synchronized QueuePair queuePair() {
        return queuePair;
    }

    @Override
    public synchronized void connect(ConnectionParameters parameters) {
        parameters.checkFitsConnect();
        requireOpen();
        withConnParam(parameters, p -> calls.rdmaConnect.invokeInt(id, p));
    }

    @Override
    public synchronized void accept(ConnectionParameters parameters) {
        Objects.requireNonNull(parameters, "parameters");
        requireOpen();
        withConnParam(parameters, p -> calls.rdmaAccept.invokeInt(id, p));
    }

    private interface ConnParamCall {
        void call(MemorySegment connParam);
    }

    private static void withConnParam(ConnectionParameters parameters, ConnParamCall call) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = arena.allocate(rdma_conn_param.layout());
            byte[] data = parameters.privateData();
            if (data.length > 0) {
                rdma_conn_param.private_data(p, arena.allocateFrom(JAVA_BYTE, data));
                rdma_conn_param.private_data_len(p, (byte) data.length);
            }
            rdma_conn_param.responder_resources(p, (byte) parameters.responderResources());
            rdma_conn_param.initiator_depth(p, (byte) parameters.initiatorDepth());
            rdma_conn_param.retry_count(p, (byte) parameters.retryCount());
            rdma_conn_param.rnr_retry_count(p, (byte) parameters.rnrRetryCount());
            call.call(p);
        }
    }

    @Override
    public synchronized void reject(byte[] privateData) {
        byte[] data = privateData == null ? new byte[0] : privateData;
        if (data.length > ConnectionParameters.MAX_REJECT_PRIVATE_DATA) {
            throw new IllegalArgumentException("reject private data is " + data.length + " bytes; at most "
                    + ConnectionParameters.MAX_REJECT_PRIVATE_DATA + " fit");
        }
        requireOpen();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = data.length == 0 ? MemorySegment.NULL : arena.allocateFrom(JAVA_BYTE, data);
            calls.rdmaReject.invokeInt(id, p, (byte) data.length);
        }
    }

    @Override
    public synchronized void disconnect() {
        requireOpen();
        if (queuePair != null) {
            queuePair.moveToError();
        }
        if (connected) {
            connected = false;
            calls.rdmaDisconnect.invokeInt(id);
        }
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException(this + " is closed");
        }
    }

    private static int timeoutMillis(Duration timeout) {
        if (timeout == null || timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive, was " + timeout);
        }
        return (int) Math.min(Integer.MAX_VALUE, timeout.toMillis());
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        if (queuePair != null) {
            OpenObjects.requireNoneOpen(this, List.of(queuePair));
        }
        watchDevice();
        calls.rdmaDestroyId.invokeInt(id);
        closed = true;
        channel.ids.remove(id.address());
        channel.provider.openObjects.closed(this);
    }

    @Override
    public synchronized boolean isClosed() {
        return closed;
    }

    @Override
    public String toString() {
        return "native cm id #" + serial;
    }
}
