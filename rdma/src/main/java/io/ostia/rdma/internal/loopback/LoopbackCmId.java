package io.ostia.rdma.internal.loopback;

import io.ostia.rdma.CmEvent;
import io.ostia.rdma.CmEventChannel;
import io.ostia.rdma.CmEventType;
import io.ostia.rdma.CmId;
import io.ostia.rdma.ConnectionParameters;
import io.ostia.rdma.NativeCallException;
import io.ostia.rdma.ProtectionDomain;
import io.ostia.rdma.QueuePair;
import io.ostia.rdma.QueuePairAttributes;
import io.ostia.rdma.RdmaDevice;
import io.ostia.rdma.internal.OpenObjects;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/** A loopback connection id; every method runs under the fabric lock. */
final class LoopbackCmId implements CmId {
    /** Reject reason rdma_cm reports when nobody listens (IB CM "invalid service ID"). */
    static final int REJECT_NO_LISTENER = 8;
    /** Reject reason of a consumer reject (IB CM "consumer reject"). */
    static final int REJECT_CONSUMER = 28;
    static final int ETIMEDOUT = 110;
    static final int EHOSTUNREACH = 113;
    static final int EADDRNOTAVAIL = 99;
    static final int ENODEV = 19;

    /**
     * Where the id is. A disconnect is a request and a reply, as in the IB CM: DISCONNECT_SENT
     * waits for the peer's answer, DISCONNECT_RECEIVED was told DISCONNECTED and owes one.
     */
    private enum State {
        IDLE, BOUND, ADDR_RESOLVED, ROUTE_RESOLVED, LISTENING, CONNECT_REQUEST, CONNECTING, CONNECTED,
        DISCONNECT_SENT, DISCONNECT_RECEIVED, DISCONNECTED, FAILED
    }

    final Fabric fabric;
    final LoopbackChannel channel;
    private final long serial;
    InetSocketAddress localAddress;
    private InetSocketAddress remoteAddress;
    private LoopbackDevice device;
    private LoopbackQueuePair queuePair;
    private LoopbackCmId peer;
    /** The RNR retry count given to connect: under rdma_cm it governs the peer's sends (rdma_connect(3)). */
    private int connectRnrRetryCount = ConnectionParameters.RNR_RETRY_FOREVER;
    private State state = State.IDLE;
    private boolean closed;

    LoopbackCmId(LoopbackChannel channel) {
        this.channel = channel;
        this.fabric = channel.fabric;
        this.serial = fabric.openObjects.nextSerial();
        fabric.openObjects.opened(this);
    }

    @Override
    public CmEventChannel channel() {
        return channel;
    }

    @Override
    public RdmaDevice device() {
        return fabric.locked(() -> {
            if (device == null) {
                throw new IllegalStateException(this + " has no device yet (state " + state + "); resolve an address first");
            }
            return device;
        });
    }

    @Override
    public void resolveAddress(InetSocketAddress source, InetSocketAddress destination, Duration timeout) {
        Objects.requireNonNull(destination, "destination");
        requirePositive(timeout);
        fabric.lock.lock();
        try {
            requireOpen();
            requireState("resolveAddress", State.IDLE, State.BOUND);
            LoopbackDevice local = source != null ? fabric.deviceOwning(source.getAddress()) : fabric.deviceOwning(destination.getAddress());
            if (source != null && local == null) {
                fail(CmEventType.ADDR_ERROR, -EADDRNOTAVAIL);
                return;
            }
            if (local == null || fabric.deviceOwning(destination.getAddress()) == null) {
                fail(CmEventType.ADDR_ERROR, -EHOSTUNREACH);
                return;
            }
            bindDevice(local);
            if (localAddress == null) {
                localAddress = new InetSocketAddress(local.addressLike(destination.getAddress()), fabric.allocatePort());
            }
            remoteAddress = destination;
            state = State.ADDR_RESOLVED;
            emit(CmEventType.ADDR_RESOLVED, 0, null);
        } finally {
            fabric.lock.unlock();
        }
    }

    @Override
    public void resolveRoute(Duration timeout) {
        requirePositive(timeout);
        fabric.lock.lock();
        try {
            requireOpen();
            requireState("resolveRoute", State.ADDR_RESOLVED);
            if (device.removed) {
                fail(CmEventType.ROUTE_ERROR, -ENODEV);
                return;
            }
            state = State.ROUTE_RESOLVED;
            emit(CmEventType.ROUTE_RESOLVED, 0, null);
        } finally {
            fabric.lock.unlock();
        }
    }

    @Override
    public void bind(InetSocketAddress address) {
        Objects.requireNonNull(address, "address");
        fabric.lock.lock();
        try {
            requireOpen();
            requireState("bind", State.IDLE);
            if (!address.getAddress().isAnyLocalAddress()) {
                LoopbackDevice owner = fabric.deviceOwning(address.getAddress());
                if (owner == null && fabric.removedDeviceOwned(address.getAddress())) {
                    // As rdma_cm: the address is still there, its device is not.
                    throw new NativeCallException("rdma_bind_addr", ENODEV, "No such device");
                }
                if (owner == null) {
                    throw new IllegalArgumentException("cannot bind to " + address + ": no loopback device owns that address");
                }
                bindDevice(owner);
            }
            InetSocketAddress bound = address.getPort() == 0 ? new InetSocketAddress(address.getAddress(), fabric.allocatePort()) : address;
            if (fabric.portInUse(bound)) {
                throw new IllegalArgumentException("cannot bind to " + bound + ": the port has a listener already");
            }
            localAddress = bound;
            state = State.BOUND;
        } finally {
            fabric.lock.unlock();
        }
    }

    @Override
    public void listen(int backlog) {
        if (backlog < 0) {
            throw new IllegalArgumentException("backlog must not be negative: " + backlog);
        }
        fabric.lock.lock();
        try {
            requireOpen();
            requireState("listen", State.BOUND);
            state = State.LISTENING;
            fabric.addListener(this);
        } finally {
            fabric.lock.unlock();
        }
    }

    @Override
    public InetSocketAddress localAddress() {
        return fabric.locked(() -> localAddress);
    }

    @Override
    public InetSocketAddress remoteAddress() {
        return fabric.locked(() -> remoteAddress);
    }

    @Override
    public QueuePair createQueuePair(ProtectionDomain pd, QueuePairAttributes attributes) {
        Objects.requireNonNull(pd, "pd");
        Objects.requireNonNull(attributes, "attributes");
        fabric.lock.lock();
        try {
            requireOpen();
            if (device == null) {
                throw new IllegalStateException("cannot create a queue pair on " + this + ": no device yet (state " + state + ")");
            }
            device.requirePresent();
            if (queuePair != null) {
                throw new IllegalStateException(this + " has a queue pair already: " + queuePair);
            }
            LoopbackProtectionDomain lpd = sameDevice(pd, LoopbackProtectionDomain.class, "protection domain");
            lpd.requireOpen();
            LoopbackCompletionQueue sendCq = sameDevice(attributes.sendCompletionQueue(), LoopbackCompletionQueue.class, "send completion queue");
            LoopbackCompletionQueue recvCq = sameDevice(attributes.receiveCompletionQueue(), LoopbackCompletionQueue.class, "receive completion queue");
            queuePair = new LoopbackQueuePair(this, lpd, attributes, sendCq, recvCq);
            return queuePair;
        } finally {
            fabric.lock.unlock();
        }
    }

    private <T> T sameDevice(Object object, Class<T> type, String what) {
        RdmaDevice owner = object instanceof LoopbackProtectionDomain p ? p.device
                : object instanceof LoopbackCompletionQueue c ? c.device : null;
        if (!type.isInstance(object) || ((io.ostia.rdma.RdmaResource) object).isClosed()) {
            throw new IllegalArgumentException("the " + what + " must be an open object of this loopback fabric: " + object);
        }
        if (owner != device) {
            throw new IllegalArgumentException("the " + what + " belongs to " + owner + ", but " + this + " is on " + device);
        }
        return type.cast(object);
    }

    @Override
    public QueuePair queuePair() {
        return fabric.locked(() -> queuePair);
    }

    @Override
    public void connect(ConnectionParameters parameters) {
        Objects.requireNonNull(parameters, "parameters");
        parameters.checkFitsConnect();
        fabric.lock.lock();
        try {
            requireOpen();
            requireState("connect", State.ROUTE_RESOLVED);
            requireQueuePair("connect");
            connectRnrRetryCount = parameters.rnrRetryCount();
            if (fabric.isUnreachable(remoteAddress.getAddress())) {
                fail(CmEventType.UNREACHABLE, -ETIMEDOUT);
                return;
            }
            LoopbackCmId listener = fabric.listenerFor(remoteAddress);
            if (listener == null) {
                state = State.FAILED;
                emit(CmEventType.REJECTED, REJECT_NO_LISTENER, delivered(null, ConnectionParameters.MAX_REJECT_PRIVATE_DATA));
                return;
            }
            LoopbackCmId child = new LoopbackCmId(listener.channel);
            listener.channel.ids.add(child);
            child.bindDevice(fabric.deviceOwning(remoteAddress.getAddress()));
            child.localAddress = remoteAddress;
            child.remoteAddress = localAddress;
            child.state = State.CONNECT_REQUEST;
            child.peer = this;
            peer = child;
            state = State.CONNECTING;
            fabric.emit(listener.channel, new CmEvent(CmEventType.CONNECT_REQUEST, child, listener, 0,
                    delivered(parameters.privateData(), ConnectionParameters.MAX_CONNECT_PRIVATE_DATA)));
        } finally {
            fabric.lock.unlock();
        }
    }

    @Override
    public void accept(ConnectionParameters parameters) {
        Objects.requireNonNull(parameters, "parameters");
        fabric.lock.lock();
        try {
            requireOpen();
            requireState("accept", State.CONNECT_REQUEST);
            requireQueuePair("accept");
            LoopbackCmId active = peer;
            if (active == null || active.closed || active.state != State.CONNECTING || active.queuePair == null) {
                fail(CmEventType.CONNECT_ERROR, -ETIMEDOUT);
                return;
            }
            // Each side's value goes to the other side's queue pair, as the CM carries it.
            LoopbackQueuePair.connect(queuePair, active.connectRnrRetryCount, active.queuePair, parameters.rnrRetryCount());
            state = State.CONNECTED;
            active.state = State.CONNECTED;
            emit(CmEventType.ESTABLISHED, 0, null);
            active.emit(CmEventType.ESTABLISHED, 0, delivered(parameters.privateData(), ConnectionParameters.MAX_ACCEPT_PRIVATE_DATA));
        } finally {
            fabric.lock.unlock();
        }
    }

    @Override
    public void reject(byte[] privateData) {
        byte[] data = privateData == null ? new byte[0] : privateData;
        if (data.length > ConnectionParameters.MAX_REJECT_PRIVATE_DATA) {
            throw new IllegalArgumentException("reject private data is " + data.length + " bytes; at most "
                    + ConnectionParameters.MAX_REJECT_PRIVATE_DATA + " fit");
        }
        fabric.lock.lock();
        try {
            requireOpen();
            requireState("reject", State.CONNECT_REQUEST);
            state = State.FAILED;
            LoopbackCmId active = peer;
            peer = null;
            if (active != null && !active.closed && active.state == State.CONNECTING) {
                active.peer = null;
                active.state = State.FAILED;
                active.emit(CmEventType.REJECTED, REJECT_CONSUMER, delivered(data, ConnectionParameters.MAX_REJECT_PRIVATE_DATA));
            }
        } finally {
            fabric.lock.unlock();
        }
    }

    /** The CONNECT_REQUEST reached a closed listener: refuse the peer and drop this id. */
    void abandonRequest() {
        fabric.lock.lock();
        try {
            if (!closed) {
                reject(null);
                close();
            }
        } finally {
            fabric.lock.unlock();
        }
    }

    /**
     * Private data as rdma_cm delivers it on InfiniBand and RoCE: the whole fixed-size field of
     * the CM message, the sent bytes padded with zeros.
     */
    private static byte[] delivered(byte[] sent, int messageSize) {
        return Arrays.copyOf(sent == null ? new byte[0] : sent, messageSize);
    }

    @Override
    public void disconnect() {
        fabric.lock.lock();
        try {
            requireOpen();
            if (queuePair != null) {
                queuePair.toError();
            }
            if (state == State.CONNECTED) {
                requestDisconnect();
            } else if (state == State.DISCONNECT_RECEIVED) {
                answerDisconnect();
            }
        } finally {
            fabric.lock.unlock();
        }
    }

    /** DREQ: the peer is told and owes an answer; with no peer left the request times out. */
    private void requestDisconnect() {
        LoopbackCmId other = peer;
        if (other != null && other.state == State.CONNECTED) {
            state = State.DISCONNECT_SENT;
            other.state = State.DISCONNECT_RECEIVED;
            other.emit(CmEventType.DISCONNECTED, 0, null);
        } else {
            finishDisconnect(-ETIMEDOUT);
        }
    }

    /** DREP: the peer waiting for it is told; both ends are through. */
    private void answerDisconnect() {
        LoopbackCmId other = peer;
        state = State.DISCONNECTED;
        peer = null;
        emitTimewaitExit();
        if (other != null && other.state == State.DISCONNECT_SENT) {
            other.finishDisconnect(0);
        }
    }

    /** The end of this side's disconnect: DISCONNECTED, then TIMEWAIT_EXIT. */
    private void finishDisconnect(int status) {
        state = State.DISCONNECTED;
        peer = null;
        emit(CmEventType.DISCONNECTED, status, null);
        emitTimewaitExit();
    }

    private void emitTimewaitExit() {
        if (queuePair != null) {
            emit(CmEventType.TIMEWAIT_EXIT, 0, null);
        }
    }

    void dropConnection() {
        requireOpen();
        if (state != State.CONNECTED) {
            throw new IllegalStateException("cannot drop the connection of " + this + ": it is not connected (state " + state + ")");
        }
        breakConnection();
    }

    /** Both ends: queue pairs to error, DISCONNECTED, then TIMEWAIT_EXIT. */
    private void breakConnection() {
        LoopbackCmId other = peer;
        endConnection();
        if (other != null && other.state == State.CONNECTED) {
            other.endConnection();
        }
    }

    /** The connection is gone under this side: queue pair to error, DISCONNECTED, TIMEWAIT_EXIT. */
    private void endConnection() {
        if (queuePair != null) {
            queuePair.toError();
        }
        finishDisconnect(0);
    }

    void onDeviceRemoved() {
        if (closed) {
            return;
        }
        if (state == State.CONNECTED || state == State.DISCONNECT_SENT || state == State.DISCONNECT_RECEIVED) {
            LoopbackCmId other = peer;
            state = State.DISCONNECTED;
            peer = null;
            // A peer on the removed device gets its own DEVICE_REMOVAL instead; one that was told
            // of a disconnect already is not told again.
            if (other != null && (other.state == State.CONNECTED || other.state == State.DISCONNECT_SENT)
                    && !other.device.removed) {
                other.endConnection();
            }
        }
        if (queuePair != null) {
            queuePair.toError();
        }
        if (state == State.LISTENING) {
            fabric.removeListener(this);
        }
        emit(CmEventType.DEVICE_REMOVAL, 0, null);
    }

    void queuePairClosed(LoopbackQueuePair qp) {
        if (queuePair == qp) {
            queuePair = null;
        }
    }

    private void bindDevice(LoopbackDevice d) {
        device = d;
        d.ids.add(this);
    }

    private void fail(CmEventType type, int status) {
        state = State.FAILED;
        emit(type, status, null);
    }

    private void emit(CmEventType type, int status, byte[] privateData) {
        fabric.emit(channel, new CmEvent(type, this, null, status, privateData));
    }

    private void requireState(String operation, State... allowed) {
        for (State s : allowed) {
            if (state == s) {
                return;
            }
        }
        throw new IllegalStateException(operation + " is not allowed on " + this + " in state " + state
                + "; it needs " + List.of(allowed));
    }

    private void requireQueuePair(String operation) {
        if (queuePair == null) {
            throw new IllegalStateException(operation + " on " + this + " needs a queue pair; create one first");
        }
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException(this + " is closed");
        }
    }

    private static void requirePositive(Duration timeout) {
        if (timeout == null || timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive, was " + timeout);
        }
    }

    @Override
    public void close() {
        fabric.lock.lock();
        try {
            if (closed) {
                return;
            }
            if (queuePair != null) {
                OpenObjects.requireNoneOpen(this, List.of(queuePair));
            }
            // As rdma_destroy_id does: a connected id sends the disconnect request, one that was
            // told of the peer's disconnect answers it.
            if (state == State.CONNECTED && peer != null && peer.state == State.CONNECTED) {
                peer.state = State.DISCONNECT_RECEIVED;
                peer.peer = null;
                peer.emit(CmEventType.DISCONNECTED, 0, null);
            } else if (state == State.DISCONNECT_RECEIVED) {
                answerDisconnect();
            } else if (state == State.CONNECT_REQUEST) {
                reject(null);
            } else if (peer != null) {
                peer.peer = null;
            }
            if (state == State.LISTENING) {
                fabric.removeListener(this);
            }
            closed = true;
            peer = null;
            if (device != null) {
                device.ids.remove(this);
            }
            channel.ids.remove(this);
            fabric.openObjects.closed(this);
        } finally {
            fabric.lock.unlock();
        }
    }

    @Override
    public boolean isClosed() {
        return fabric.lockedTest(() -> closed);
    }

    @Override
    public String toString() {
        return "loopback cm id #" + serial;
    }
}
