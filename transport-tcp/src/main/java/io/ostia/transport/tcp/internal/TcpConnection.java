package io.ostia.transport.tcp.internal;

import io.ostia.api.TransportException;
import io.ostia.api.pdu.DataOut;
import io.ostia.api.pdu.LoginRequest;
import io.ostia.api.pdu.LoginResponse;
import io.ostia.api.pdu.LoginStage;
import io.ostia.api.pdu.Pdu;
import io.ostia.api.pdu.ScsiCommand;
import io.ostia.api.spi.ConnectionOwner;
import io.ostia.api.spi.StopMode;
import io.ostia.api.spi.TransportConnection;
import io.ostia.api.spi.TransportEndpoint;
import io.ostia.api.spi.TransportTask;
import io.ostia.api.text.NegotiatedParameters;
import io.ostia.transport.tcp.TcpTransportOptions;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A session connection's TCP half. Each bind makes a {@link Binding}: the endpoint's socket,
 * a PDU decoder, a sender, the task table and the receive thread; stop retires it whole, so a
 * later bind (recovery) starts clean.
 *
 * <p>{@link #lock} guards the lifecycle state. It is never held while waiting for I/O or for a
 * thread; the only wait under it is the receive thread's bounded wait for the session's
 * parameters, on {@link #parametersChanged}, which releases it.
 */
final class TcpConnection implements TransportConnection {

    private static final System.Logger LOG = System.getLogger(TcpConnection.class.getName());

    enum State {
        CREATED, BOUND, STARTED, STOPPED, DESTROYED
    }

    private final TcpTransport transport;
    private final ConnectionOwner owner;
    private final TcpTransportOptions options;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition parametersChanged = lock.newCondition();

    private State state = State.CREATED;
    /** Volatile only for toString; every other access holds {@link #lock}. */
    private volatile Binding binding;
    /** A binding whose stop is under way in another thread; a second stop waits for it. */
    private Binding retiring;
    /** What setParameters gave since the last bind; null until then. */
    private TcpParameters negotiated;
    /** What the send path uses now: login values until setParameters. */
    private volatile TcpParameters parameters = TcpParameters.LOGIN;

    TcpConnection(TcpTransport transport, ConnectionOwner owner, TcpTransportOptions options) {
        this.transport = transport;
        this.owner = owner;
        this.options = options;
    }

    ConnectionOwner owner() {
        return owner;
    }

    /** TCP adds no keys: it reads segments of any length, so the session's own limits stand. */
    @Override
    public Map<String, String> loginKeys() {
        return Map.of();
    }

    @Override
    public void bind(TransportEndpoint endpoint, boolean leading) throws TransportException {
        if (!(endpoint instanceof TcpEndpoint tcp)) {
            throw new TransportException("cannot bind a TCP connection to " + (endpoint == null ? "null"
                    : "an endpoint of another transport (" + endpoint.getClass().getName() + ")"));
        }
        if (tcp.transport() != transport) {
            throw new TransportException("cannot bind to the endpoint " + tcp
                    + ": it belongs to another instance of the TCP transport");
        }
        lock.lock();
        try {
            switch (state) {
                case DESTROYED -> throw new TransportException("cannot bind a destroyed connection to " + tcp);
                case BOUND, STARTED -> throw new TransportException("cannot bind to " + tcp
                        + ": the connection is already bound to " + binding.endpoint + " (stop it first)");
                case CREATED, STOPPED -> {
                }
                default -> throw new IllegalStateException("unknown state " + state);
            }
            tcp.attach(this);
            Binding fresh = null;
            try {
                fresh = new Binding(this, tcp, options);
                fresh.startReceiving();
            } catch (IOException | RuntimeException | OutOfMemoryError e) {
                // OutOfMemoryError included: it is what a refused thread start throws.
                if (fresh != null) {
                    fresh.abandon(e);
                }
                tcp.cancelAttach(this);
                throw new TransportException("cannot bind to " + tcp + ": " + TcpEndpoint.reason(e), e);
            }
            binding = fresh;
            negotiated = null;
            parameters = TcpParameters.LOGIN;
            state = State.BOUND;
        } finally {
            lock.unlock();
        }
        LOG.log(Level.DEBUG, () -> "bound a " + (leading ? "leading " : "") + "connection to " + tcp);
    }

    @Override
    public void setParameters(NegotiatedParameters negotiatedParameters) {
        TcpParameters values = ParameterMapping.of(negotiatedParameters);
        lock.lock();
        try {
            if (binding == null) {
                LOG.log(Level.WARNING, "parameters given to a connection that is not bound; they are ignored "
                        + "(state " + state + ")");
                return;
            }
            negotiated = values;
            parameters = values;
            binding.sender.setDigests(values.headerDigest(), values.dataDigest());
            parametersChanged.signalAll();
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
                    binding.startRequested = true;
                    parametersChanged.signalAll();
                }
                default -> throw new TransportException("cannot start a connection that is " + describeState()
                        + ": bind it to an endpoint that is up first");
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Every mode closes the socket, as Linux's iscsi_tcp stop_conn releases it in every mode:
     * the endpoint is down afterwards, and a connection that is to go on binds a new one. The
     * modes differ only in what the session layer does with the tasks, which it owns again.
     */
    @Override
    public void stop(StopMode mode) {
        Binding stopping;
        boolean mine;
        lock.lock();
        try {
            if (binding != null) {
                stopping = binding;
                mine = true;
                binding = null;
                retiring = stopping;
                state = State.STOPPED;
                stopping.stopping = true;
                parametersChanged.signalAll();
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
            // Another thread is retiring this binding: this stop too returns only once it is done,
            // unless it comes from the receive thread, which that other thread is waiting for.
            if (!stopping.isReceiveThread()) {
                stopping.awaitRetired(2 * options.releaseTimeout().toNanos());
            }
            return;
        }
        LOG.log(Level.DEBUG, () -> "stopping (" + mode + ") the connection on " + stopping.endpoint);
        try {
            stopping.retire();
        } finally {
            lock.lock();
            try {
                if (retiring == stopping) {
                    retiring = null;
                }
            } finally {
                lock.unlock();
            }
            transport.connectionUnbound(this);
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
        transport.connectionDestroyed(this);
    }

    @Override
    public void sendPdu(Pdu pdu) throws TransportException {
        Binding current;
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
        current.send(pdu);
    }

    @Override
    public void sendTask(TransportTask task) throws TransportException {
        Binding current;
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
        current.sendTask(task, parameters);
    }

    @Override
    public void cleanupTask(TransportTask task) {
        Binding current;
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
     * connection failed (from the receive thread, as every owner call) and then stopped.
     */
    void forceRelease(TransportException cause) {
        Binding current;
        lock.lock();
        try {
            current = binding;
        } finally {
            lock.unlock();
        }
        if (current == null) {
            return;
        }
        current.fail(cause);
        current.awaitReceiveThread();
        stop(StopMode.RECOVER);
    }

    /** The endpoint was disconnected: the receive thread ends now, quietly, instead of at stop. */
    void endpointDisconnected(TcpEndpoint endpoint) {
        Binding current = binding;
        if (current != null && current.endpoint == endpoint) {
            current.wakeReceiver();
        }
    }

    boolean isBound() {
        lock.lock();
        try {
            return binding != null || retiring != null;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Called by the receive thread after the final Login Response: waits (bounded) until the
     * session has given the negotiated parameters, or started or stopped the connection, and
     * returns what the decoder must switch to for the next PDU.
     */
    TcpParameters awaitParametersAfterLogin(Binding caller) throws TransportException, InterruptedException {
        long remaining = options.progressTimeout().toNanos();
        lock.lock();
        try {
            while (negotiated == null && !caller.startRequested && !caller.stopping) {
                if (remaining <= 0) {
                    throw new TransportException("the session gave no negotiated parameters within "
                            + options.progressTimeout().toMillis() + " ms of the final Login Response from "
                            + caller.endpoint + " (the transport's progress timeout)");
                }
                remaining = parametersChanged.awaitNanos(remaining);
            }
            return negotiated == null ? TcpParameters.LOGIN : negotiated;
        } finally {
            lock.unlock();
        }
    }

    TcpParameters parameters() {
        return parameters;
    }

    private Binding requireBinding(String what) throws TransportException {
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

    static boolean isFinalLoginResponse(LoginResponse response) {
        return response.transit() && response.nextStage() == LoginStage.FULL_FEATURE_PHASE
                && response.statusClass() == 0;
    }

    static MemorySegment slice(MemorySegment buffer, long offset, long length) {
        return length == 0 ? Pdu.NO_DATA : buffer.asSlice(offset, length);
    }

    static void checkTask(ScsiCommand command, MemorySegment buffer) throws TransportException {
        if (command.read() && command.write() || command.expectedBidirectionalReadDataLength().isPresent()) {
            throw new TransportException("task " + TaskState.hex(command.initiatorTaskTag())
                    + " is bidirectional, which the TCP transport does not support");
        }
        long expected = Integer.toUnsignedLong(command.expectedDataTransferLength());
        if (buffer.byteSize() != expected) {
            throw new IllegalArgumentException("task " + TaskState.hex(command.initiatorTaskTag()) + " has a buffer of "
                    + buffer.byteSize() + " bytes, but its ExpectedDataTransferLength is " + expected);
        }
        if (command.dataSegmentLength() != 0) {
            throw new IllegalArgumentException("task " + TaskState.hex(command.initiatorTaskTag())
                    + " carries a data segment; the transport adds immediate data from the task buffer itself");
        }
    }

    @Override
    public String toString() {
        Binding current = binding;
        return "TCP connection of " + owner + (current == null ? " (" + describeState() + ")" : " on " + current.endpoint);
    }
}
