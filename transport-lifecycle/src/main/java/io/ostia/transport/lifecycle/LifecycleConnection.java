package io.ostia.transport.lifecycle;

import io.ostia.api.TransportException;
import io.ostia.api.pdu.DataOut;
import io.ostia.api.pdu.LoginRequest;
import io.ostia.api.pdu.Pdu;
import io.ostia.api.pdu.ScsiCommand;
import io.ostia.api.spi.ConnectionOwner;
import io.ostia.api.spi.StopMode;
import io.ostia.api.spi.TransportConnection;
import io.ostia.api.spi.TransportEndpoint;
import io.ostia.api.spi.TransportTask;
import io.ostia.api.text.NegotiatedParameters;
import java.lang.System.Logger.Level;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The SPI connection state machine every transport shares (the states and orders of
 * {@link TransportConnection}): created, bound, started, stopped, destroyed. A second bind and a
 * bind of a destroyed connection are refused with a clear error and change nothing; stop
 * without a bind and stop twice are no-ops; destroy stops first. Each bind is the transport's
 * {@link ConnectionBinding}, which this class retires whole at stop.
 *
 * <p>{@link #lock} guards the state and is never held while waiting for I/O, a thread or a
 * release. A stop that finds another thread already retiring the binding waits for it
 * (bounded), unless it comes from that binding's callback thread, which the other is waiting for.
 */
public final class LifecycleConnection implements TransportConnection {

    private static final System.Logger LOG = System.getLogger(LifecycleConnection.class.getName());

    enum State {
        CREATED, BOUND, STARTED, STOPPED, DESTROYED
    }

    private final TransportLifecycle lifecycle;
    private final ConnectionOwner owner;
    private final Map<String, String> loginKeys;
    private final ConnectionBinder binder;
    private final ReentrantLock lock = new ReentrantLock();

    private State state = State.CREATED;
    /** Volatile only for toString; every other access holds {@link #lock}. */
    private volatile ConnectionBinding binding;
    /** A binding whose stop is under way in another thread; a second stop waits for it. */
    private Retirement retiring;

    LifecycleConnection(TransportLifecycle lifecycle, ConnectionOwner owner, Map<String, String> loginKeys,
            ConnectionBinder binder) {
        this.lifecycle = lifecycle;
        this.owner = owner;
        this.loginKeys = loginKeys;
        this.binder = binder;
    }

    @Override
    public Map<String, String> loginKeys() {
        return loginKeys;
    }

    /** The session layer's side of this connection. */
    public ConnectionOwner owner() {
        return owner;
    }

    @Override
    public void bind(TransportEndpoint endpoint, boolean leading) throws TransportException {
        lock.lock();
        try {
            switch (state) {
                case DESTROYED -> throw new TransportException("cannot bind a destroyed connection to " + endpoint);
                case BOUND, STARTED -> throw new TransportException("cannot bind to " + endpoint
                        + ": the connection is already bound to " + binding.endpoint() + " (stop it first)");
                case CREATED, STOPPED -> {
                }
                default -> throw new IllegalStateException("unknown state " + state);
            }
            binding = binder.bind(endpoint, leading);
            state = State.BOUND;
        } finally {
            lock.unlock();
        }
        LOG.log(Level.DEBUG, () -> "bound a " + (leading ? "leading " : "") + "connection to " + endpoint);
    }

    @Override
    public void setParameters(NegotiatedParameters parameters) {
        lock.lock();
        try {
            if (binding == null) {
                LOG.log(Level.WARNING, "parameters given to a connection that is not bound; they are ignored "
                        + "(state " + state + ")");
                return;
            }
            binding.setParameters(parameters);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void start() throws TransportException {
        lock.lock();
        try {
            switch (state) {
                case STARTED -> {
                    return;
                }
                case BOUND -> {
                    binding.requireHealthy("start");
                    state = State.STARTED;
                    binding.started();
                }
                default -> throw new TransportException("cannot start a connection that is " + describeState()
                        + ": bind it to an endpoint that is up first");
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void stop(StopMode mode) {
        Retirement stopping;
        boolean mine;
        lock.lock();
        try {
            if (binding != null) {
                stopping = new Retirement(binding);
                mine = true;
                binding = null;
                retiring = stopping;
                state = State.STOPPED;
                stopping.binding.stopRequested();
            } else {
                stopping = retiring;
                mine = false;
            }
        } finally {
            lock.unlock();
        }
        if (stopping == null) {
            return; // never bound, or already stopped: a no-op, as Linux tolerates stop without bind
        }
        if (!mine) {
            if (!stopping.binding.isCallbackThread()) {
                stopping.await(2 * lifecycle.releaseTimeout().toNanos());
            }
            return;
        }
        LOG.log(Level.DEBUG, () -> "stopping (" + mode + ") the connection on " + stopping.binding.endpoint());
        try {
            stopping.binding.retire(mode);
        } finally {
            stopping.done.countDown();
            lock.lock();
            try {
                if (retiring == stopping) {
                    retiring = null;
                }
            } finally {
                lock.unlock();
            }
            lifecycle.connectionUnbound(this);
        }
    }

    @Override
    public void destroy() {
        stop(StopMode.TERMINATE);
        lock.lock();
        try {
            if (state == State.DESTROYED) {
                return;
            }
            state = State.DESTROYED;
        } finally {
            lock.unlock();
        }
        lifecycle.connectionDestroyed(this);
    }

    @Override
    public void sendPdu(Pdu pdu) throws TransportException {
        ConnectionBinding current;
        lock.lock();
        try {
            current = requireBinding("send a " + pdu.opcode() + " PDU");
            if (state != State.STARTED && !(pdu instanceof LoginRequest)) {
                throw new TransportException("cannot send a " + pdu.opcode() + " PDU before start: only Login "
                        + "Requests may cross a connection that is not in full-feature phase");
            }
        } finally {
            lock.unlock();
        }
        if (pdu instanceof ScsiCommand || pdu instanceof DataOut) {
            throw new TransportException("a " + pdu.opcode() + " PDU goes through sendTask: the transport moves "
                    + "the data of SCSI commands");
        }
        current.sendPdu(pdu);
    }

    @Override
    public void sendTask(TransportTask task) throws TransportException {
        ConnectionBinding current;
        lock.lock();
        try {
            current = requireBinding("send a task");
            if (state != State.STARTED) {
                throw new TransportException("cannot send a task on a connection that is not started (state "
                        + state + ")");
            }
        } finally {
            lock.unlock();
        }
        current.sendTask(task);
    }

    @Override
    public void cleanupTask(TransportTask task) {
        ConnectionBinding current;
        lock.lock();
        try {
            current = binding;
        } finally {
            lock.unlock();
        }
        if (current != null) {
            current.cleanupTask(task);
        }
    }

    /**
     * Step 4 of leaving: the owner did not stop this connection in time. It is told the
     * connection failed (from the binding's callback thread, as every owner call) and then stopped.
     */
    void forceRelease(TransportException cause) {
        ConnectionBinding current;
        lock.lock();
        try {
            current = binding;
        } finally {
            lock.unlock();
        }
        if (current == null) {
            return;
        }
        current.failAndAwaitReport(cause);
        stop(StopMode.RECOVER);
    }

    /** Bound, or its stop still under way. */
    boolean isBound() {
        lock.lock();
        try {
            return binding != null || retiring != null;
        } finally {
            lock.unlock();
        }
    }

    private ConnectionBinding requireBinding(String what) throws TransportException {
        if (binding == null) {
            throw new TransportException("cannot " + what + ": the connection is " + describeState());
        }
        binding.requireHealthy(what);
        return binding;
    }

    private String describeState() {
        return switch (state) {
            case CREATED -> "not bound";
            case STOPPED -> "stopped";
            case DESTROYED -> "destroyed";
            case BOUND -> "bound";
            case STARTED -> "started";
        };
    }

    @Override
    public String toString() {
        ConnectionBinding current = binding;
        return lifecycle.displayName() + " connection of " + owner
                + (current == null ? " (" + describeState() + ")" : " on " + current.endpoint());
    }

    /** A binding being retired, and the latch a second stop waits on. */
    private static final class Retirement {
        final ConnectionBinding binding;
        final CountDownLatch done = new CountDownLatch(1);

        Retirement(ConnectionBinding binding) {
            this.binding = binding;
        }

        void await(long timeoutNanos) {
            try {
                if (!done.await(timeoutNanos, TimeUnit.NANOSECONDS)) {
                    LOG.log(Level.ERROR, "the connection on " + binding.endpoint() + " was not stopped by another "
                            + "thread within " + TimeUnit.NANOSECONDS.toMillis(timeoutNanos) + " ms");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                LOG.log(Level.ERROR, "interrupted while waiting for the connection on " + binding.endpoint()
                        + " to stop", e);
            }
        }
    }
}
