package io.ostia.transport.iser.internal;

import io.ostia.api.TransportException;
import io.ostia.api.iser.IserCmHeader;
import io.ostia.api.spi.TransportEndpoint;
import io.ostia.rdma.CmEvent;
import io.ostia.rdma.CmId;
import io.ostia.rdma.CompletionQueue;
import io.ostia.rdma.ConnectionParameters;
import io.ostia.rdma.ProtectionDomain;
import io.ostia.rdma.QueuePair;
import io.ostia.rdma.QueuePairAttributes;
import io.ostia.rdma.RdmaDevice;
import io.ostia.rdma.SendWorkRequest;
import io.ostia.rdma.WorkCompletion;
import io.ostia.transport.iser.IserTransportOptions;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One RDMA connection to a target (Linux {@code iser_conn} with its {@code ib_conn}): the CM id,
 * and from ROUTE_RESOLVED on the protection domain, completion queue, queue pair and the
 * completion thread; from bind on the connection's buffer pools and registrations.
 *
 * <h2>States (Linux {@code enum iser_conn_state})</h2>
 * <pre>
 * INIT --connect--> PENDING --ESTABLISHED--> UP --disconnect, stop, DISCONNECTED...--> TERMINATING
 * PENDING --connect error, disconnect--> TERMINATING;   any --release--> DOWN
 * </pre>
 * One state lock guards the state and the resource fields. It is never held while waiting for a
 * CM event, a completion or a thread, nor while closing the CM id (closing waits for the event
 * thread to finish the event it is delivering, which may be waiting for this lock). CM handlers
 * act only in the states where their event makes sense and ignore it elsewhere.
 *
 * <h2>Teardown (Linux commit b73c3adabdb1 and its fixes)</h2>
 * {@link #disconnect} terminates: TERMINATING, the queue pair to error (every posted work
 * request flushes) and the RDMA disconnect, and a beacon send posted last, whose flush says
 * every earlier one was seen. Unbound, the endpoint is released on the spot. Bound, release work
 * goes to the transport's release queue: it waits for the binding's stop completion, then for the
 * beacon, each bounded with a logged timeout, and then frees receive buffers, queue pair,
 * registrations and CM id, and leaves the transport's lists.
 */
final class IserEndpoint implements TransportEndpoint {

    private static final System.Logger LOG = System.getLogger(IserEndpoint.class.getName());

    /** Connection states, as Linux names them. */
    enum State {
        INIT, PENDING, UP, TERMINATING, DOWN
    }

    /** Work request ids: the kind in the top byte, the buffer slot below. */
    static final long RECEIVE = 1L << 56;
    static final long SEND = 2L << 56;
    private static final long KIND = 0xffL << 56;
    /** The beacon's id, as Linux's ISER_BEACON_WRID. */
    static final long BEACON = 0xffff_ffff_ffff_fffeL;
    /** Sends that are not a task's: login, text, NOP-Out, task management, logout. */
    static final int CONTROL_SLOTS = 8;
    private static final Duration NOTIFICATION_WAIT = Duration.ofMillis(100);

    private final IserTransport transport;
    private final InetSocketAddress target;
    private final IserTransportOptions options;
    private final ReentrantLock stateLock = new ReentrantLock();
    /** Counted down when the connect is settled: up, failed, or given up by a disconnect. */
    private final CountDownLatch settled = new CountDownLatch(1);
    /** Counted down when the beacon's flush completion is polled (or there is no queue pair). */
    private final CountDownLatch flushed = new CountDownLatch(1);

    // Guarded by stateLock.
    private State state = State.INIT;
    private final CmId id;
    private TransportException failure;
    private boolean disconnected;
    private boolean beaconPosted;
    private ProtectionDomain pd;
    private CompletionQueue cq;
    private QueuePair qp;
    private Thread poller;
    private RegistrationCache registrations;
    private BufferPool receives;
    private BufferPool sends;
    /** The binding now, null when unbound. */
    private IserBinding binding;
    /** The binding this endpoint carried, kept after its stop for the flushes of its buffers. */
    private volatile IserBinding carried;
    private volatile boolean polling;

    /** @param id the endpoint's CM id, which it owns from now on (its release closes it) */
    IserEndpoint(IserTransport transport, InetSocketAddress target, IserTransportOptions options, CmId id) {
        this.transport = transport;
        this.target = target;
        this.options = options;
        this.id = id;
    }

    IserTransport transport() {
        return transport;
    }

    /** INIT to PENDING: starts address resolution. */
    void start() {
        stateLock.lock();
        try {
            if (state != State.INIT) {
                return; // disconnected before it started
            }
            state = State.PENDING;
        } finally {
            stateLock.unlock();
        }
        id.resolveAddress(null, target, options.connectTimeout());
    }

    // ---- CM events, on the transport's CM event thread ----

    void onCmEvent(CmEvent event) {
        IserBinding failed = null;
        TransportException cause = null;
        stateLock.lock();
        try {
            switch (event.type()) {
                case ADDR_RESOLVED -> {
                    if (state == State.PENDING) {
                        id.resolveRoute(options.connectTimeout());
                    }
                }
                case ROUTE_RESOLVED -> {
                    if (state == State.PENDING) {
                        createResourcesAndConnect();
                    }
                }
                case ESTABLISHED -> {
                    if (state == State.PENDING) {
                        state = State.UP;
                        settled.countDown();
                    }
                }
                case ADDR_ERROR, ROUTE_ERROR, CONNECT_ERROR, UNREACHABLE, REJECTED -> {
                    if (state == State.PENDING) {
                        connectFailed(event.type() + " (status " + event.status() + ")");
                    }
                }
                case DISCONNECTED, ADDR_CHANGE, DEVICE_REMOVAL -> {
                    if (state == State.PENDING) {
                        connectFailed(event.type().toString());
                    } else if (state == State.UP) {
                        terminateLocked();
                        failed = binding;
                        cause = new TransportException("the iSER connection to " + describe(target) + " ended: "
                                + event.type());
                    }
                }
                default -> LOG.log(Level.DEBUG, () -> "ignored " + event + " on " + this);
            }
        } catch (RuntimeException e) {
            if (state == State.PENDING) {
                connectFailed(e.getMessage());
            }
            LOG.log(Level.WARNING, "the " + event.type() + " event on " + this + " failed", e);
        } finally {
            stateLock.unlock();
        }
        if (failed != null) {
            failed.fail(cause);
        }
    }

    /** ROUTE_RESOLVED: queue pair sized for the transport's largest queue depth, then connect with iSER's private data. */
    private void createResourcesAndConnect() {
        RdmaDevice device = id.device();
        int sendRequests = options.maxQueueDepth() + CONTROL_SLOTS + 1;
        int receiveRequests = options.maxQueueDepth() + options.maxUnexpectedPdus() + CONTROL_SLOTS;
        pd = device.allocateProtectionDomain();
        cq = device.createCompletionQueue(sendRequests + receiveRequests);
        qp = id.createQueuePair(pd, new QueuePairAttributes(cq, cq, sendRequests, receiveRequests, 3, 1));
        registrations = new RegistrationCache(pd, options.maxQueueDepth() * 2);
        polling = true;
        poller = Thread.ofPlatform().daemon(true).name("ostia-iser-cq-" + describe(target)).start(this::pollCompletions);
        // Ostia's initiator neither offers zero-based addresses nor takes Send with Invalidate.
        id.connect(ConnectionParameters.withPrivateData(new IserCmHeader(true, true).encode()));
    }

    private void connectFailed(String why) {
        failure = new TransportException("iSER connect to " + describe(target) + " failed: " + why);
        state = State.TERMINATING;
        settled.countDown();
    }

    // ---- TransportEndpoint ----

    @Override
    public boolean poll(Duration timeout) throws TransportException, InterruptedException {
        if (!settled.await(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
            return false;
        }
        stateLock.lock();
        try {
            if (state == State.UP) {
                return true;
            }
            throw failure != null ? failure
                    : new TransportException("the iSER connection to " + describe(target) + " was disconnected");
        } finally {
            stateLock.unlock();
        }
    }

    @Override
    public InetSocketAddress remoteAddress() {
        return target;
    }

    @Override
    public InetSocketAddress localAddress() {
        stateLock.lock();
        try {
            return state == State.UP ? id.localAddress() : null;
        } finally {
            stateLock.unlock();
        }
    }

    @Override
    public void disconnect() {
        IserBinding bound;
        stateLock.lock();
        try {
            if (disconnected || state == State.DOWN) {
                return;
            }
            disconnected = true;
            bound = binding;
            terminateLocked();
            settled.countDown();
        } finally {
            stateLock.unlock();
        }
        if (bound == null) {
            release();
        } else {
            transport.releaseQueue().submit("release of " + this, () -> releaseAfter(bound));
        }
    }

    /**
     * TERMINATING: the queue pair to error so that everything posted flushes, the RDMA
     * disconnect, and the beacon posted last. Idempotent.
     */
    void terminate() {
        stateLock.lock();
        try {
            terminateLocked();
        } finally {
            stateLock.unlock();
        }
    }

    private void terminateLocked() {
        if (state == State.DOWN) {
            return;
        }
        if (state != State.TERMINATING) {
            state = State.TERMINATING;
        }
        if (id != null) {
            id.disconnect(); // also moves the queue pair to error: the only way to make it flush
        }
        if (qp == null) {
            flushed.countDown(); // nothing was ever posted
        } else if (!beaconPosted) {
            beaconPosted = true;
            try {
                qp.postSend(new SendWorkRequest().wrId(BEACON)); // flushes after everything posted before it
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "cannot post the flush beacon on " + this + "; its release will not wait "
                        + "for the flush", e);
                flushed.countDown();
            }
        }
    }

    /** The release work: the stop, then the flush, each bounded, then free. On the release queue's thread. */
    private void releaseAfter(IserBinding bound) {
        long timeout = options.releaseTimeout().toNanos();
        try {
            if (!bound.awaitStopped(timeout)) {
                LOG.log(Level.WARNING, "the connection on " + this + " was not stopped within "
                        + options.releaseTimeout().toMillis() + " ms; releasing it anyway");
            }
            if (!flushed.await(timeout, TimeUnit.NANOSECONDS)) {
                LOG.log(Level.WARNING, "the work requests of " + this + " did not flush within "
                        + options.releaseTimeout().toMillis() + " ms; releasing it anyway");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            LOG.log(Level.ERROR, "interrupted while waiting to release " + this + "; releasing it now", e);
        }
        release();
    }

    /** DOWN, then frees everything, child first, outside the state lock. Idempotent. */
    void release() {
        List<AutoCloseable> resources = new ArrayList<>();
        Thread stopping;
        stateLock.lock();
        try {
            if (state == State.DOWN) {
                return;
            }
            state = State.DOWN;
            binding = null;
            settled.countDown();
            stopping = poller;
            polling = false;
            // Child first: queue pair, buffers and registrations before the domain; queue before id.
            for (AutoCloseable resource : new AutoCloseable[] {qp, receives, sends, registrations, cq, pd, id}) {
                if (resource != null) {
                    resources.add(resource);
                }
            }
        } finally {
            stateLock.unlock();
        }
        if (stopping != null && stopping != Thread.currentThread()) {
            stopping.interrupt();
            try {
                stopping.join(options.releaseTimeout().toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (stopping.isAlive()) {
                LOG.log(Level.ERROR, "the completion thread of " + this + " did not end; its queue stays open");
                resources.removeIf(r -> r == cq || r == pd || r == id);
            }
        }
        RuntimeException first = null;
        for (AutoCloseable resource : resources) {
            try {
                resource.close();
            } catch (Exception e) {
                LOG.log(Level.ERROR, "cannot free " + resource + " of " + this, e);
                if (first == null && e instanceof RuntimeException runtime) {
                    first = runtime;
                }
            }
        }
        // Logged before leaving the transport's list: whoever watches the list (deactivate's
        // drain, a test) then finds the release already told.
        LOG.log(Level.DEBUG, () -> "released " + this);
        transport.endpointReleased(this, id);
    }

    // ---- for the binding ----

    /**
     * Attaches {@code fresh} if this endpoint is up, not disconnecting and never carried a
     * connection, giving it its pools; under the state lock, so a disconnect cannot slip between.
     */
    void attach(IserBinding fresh, int queueDepth) throws TransportException {
        stateLock.lock();
        try {
            if (state != State.UP || disconnected) {
                throw new TransportException("cannot bind to " + this + ": it is " + describeState()
                        + " (a bind needs an endpoint that is up)");
            }
            if (carried != null) {
                throw new TransportException("cannot bind to " + this + ": it already carried a connection");
            }
            if (queueDepth > options.maxQueueDepth()) {
                throw new TransportException("cannot bind a connection of queue depth " + queueDepth + " to " + this
                        + ": its queue pair holds " + options.maxQueueDepth() + " tasks (maxQueueDepth)");
            }
            int slotPayload = options.receiveDataSegmentLength();
            receives = new BufferPool(pd, queueDepth + options.maxUnexpectedPdus() + CONTROL_SLOTS,
                    IserBinding.HEADERS + slotPayload, java.util.EnumSet.of(io.ostia.rdma.MemoryAccess.LOCAL_WRITE));
            sends = new BufferPool(pd, queueDepth + CONTROL_SLOTS, IserBinding.HEADERS
                    + IserTransportOptions.LOGIN_DATA_SEGMENT_LENGTH, java.util.EnumSet.noneOf(io.ostia.rdma.MemoryAccess.class));
            fresh.attached(qp, receives, sends, registrations);
            binding = fresh;
            carried = fresh;
        } finally {
            stateLock.unlock();
        }
    }

    /** The binding stopped: the endpoint carries no connection now (its buffers stay until release). */
    void detach(IserBinding stopped) {
        stateLock.lock();
        try {
            if (binding == stopped) {
                binding = null;
            }
        } finally {
            stateLock.unlock();
        }
    }

    boolean isUp() {
        stateLock.lock();
        try {
            return state == State.UP && !disconnected;
        } finally {
            stateLock.unlock();
        }
    }

    /** For tests: the registrations the data path made (system calls), 0 before resources exist. */
    int registrationsMade() {
        stateLock.lock();
        try {
            return registrations == null ? 0 : registrations.registrations();
        } finally {
            stateLock.unlock();
        }
    }

    /** For tests: the queue pair, null before ROUTE_RESOLVED; fault injection selects its work by number. */
    QueuePair queuePair() {
        stateLock.lock();
        try {
            return qp;
        } finally {
            stateLock.unlock();
        }
    }

    boolean isCompletionThread() {
        return Thread.currentThread() == poller;
    }

    State state() {
        stateLock.lock();
        try {
            return state;
        } finally {
            stateLock.unlock();
        }
    }

    // ---- the completion thread ----

    private void pollCompletions() {
        WorkCompletion[] batch = new WorkCompletion[16];
        for (int i = 0; i < batch.length; i++) {
            batch[i] = new WorkCompletion();
        }
        try {
            while (polling) {
                if (drain(batch, CompletionQueue.IDLE_SPIN_NANOS)) {
                    continue;
                }
                IserBinding current = carried;
                if (current != null) {
                    current.reportFailure();
                }
                cq.requestNotification(false);
                if (!drain(batch, 0) && polling) {
                    cq.awaitNotification(NOTIFICATION_WAIT);
                }
            }
        } catch (InterruptedException e) {
            // release() ends the thread this way
        } catch (RuntimeException e) {
            if (polling) {
                LOG.log(Level.ERROR, "the completion thread of " + this + " failed", e);
                IserBinding current = carried;
                if (current != null) {
                    current.fail(new TransportException("the completion queue of " + this + " failed: "
                            + e.getMessage(), e));
                    current.reportFailure();
                }
            }
        }
    }

    /** Handles a batch, polling for up to {@code spinNanos} until one comes; whether there was one. */
    private boolean drain(WorkCompletion[] batch, long spinNanos) {
        int count = cq.pollSpinning(batch, spinNanos);
        for (int i = 0; i < count; i++) {
            dispatch(batch[i]);
        }
        return count > 0;
    }

    private void dispatch(WorkCompletion completion) {
        long wrId = completion.wrId();
        if (wrId == BEACON) {
            LOG.log(Level.DEBUG, () -> "flushed: the beacon completed on " + this);
            flushed.countDown();
            return;
        }
        IserBinding current = carried;
        if (current == null) {
            return;
        }
        int slot = (int) (wrId & ~KIND);
        if ((wrId & KIND) == RECEIVE) {
            current.received(slot, completion);
        } else {
            current.sent(slot, completion);
        }
    }

    /** "disconnected" once disconnect was called, else the state's name. */
    String describeState() {
        stateLock.lock();
        try {
            return disconnected ? "disconnected" : state.name().toLowerCase(java.util.Locale.ROOT);
        } finally {
            stateLock.unlock();
        }
    }

    static String describe(InetSocketAddress address) {
        return address.getHostString() + ":" + address.getPort();
    }

    @Override
    public String toString() {
        return "iSER endpoint to " + describe(target);
    }
}
