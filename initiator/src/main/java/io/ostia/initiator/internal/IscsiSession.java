package io.ostia.initiator.internal;

import io.ostia.api.BlockDevice;
import io.ostia.api.IscsiException;
import io.ostia.api.IscsiTimeoutException;
import io.ostia.api.ScsiRequest;
import io.ostia.api.ScsiResult;
import io.ostia.api.Session;
import io.ostia.api.SessionEvent;
import io.ostia.api.SessionListener;
import io.ostia.api.SessionOptions;
import io.ostia.api.TransportException;
import io.ostia.api.pdu.NopOut;
import io.ostia.api.pdu.Pdu;
import io.ostia.api.pdu.ScsiResponseHolder;
import io.ostia.api.scsi.Cdb;
import io.ostia.api.scsi.Luns;
import io.ostia.api.spi.IscsiTransport;
import io.ostia.api.spi.StopMode;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * A normal session with one connection at ErrorRecoveryLevel 0 (Linux libiscsi's session
 * layer): the {@link Session} API, the session's state and current connection, and the rooms
 * that do its work, one idea each.
 *
 * <h2>Rooms</h2>
 * <ul>
 *   <li>{@link CommandQueue}: commands waiting and in flight, the CmdSN window, task tags and the
 *       send lock.</li>
 *   <li>{@link ImmediateRequests}: NOP-Out pings, task management and Logout waiting for their
 *       answers.</li>
 *   <li>{@link PduDispatch}: what the target sends, on the receive thread.</li>
 *   <li>{@link Recovery}: a failed connection replaced, and transport moves.</li>
 *   <li>{@link Logout}: drain, then Logout, when the session closes or moves.</li>
 *   <li>{@link Timeouts}: command deadlines and the task management they lead to, a window kept
 *       shut, keepalive pings.</li>
 * </ul>
 *
 * <h2>Threads</h2>
 * <ul>
 *   <li>Callers of {@link #execute} number and send their command themselves when the CmdSN
 *       window and queue depth allow (the fast path); otherwise the command waits in the
 *       queue.</li>
 *   <li>The transport's receive thread delivers responses and completes tasks; the session never
 *       sends from it: what needs a send (the waiting commands, NOP-In replies) goes to the
 *       session's worker. A caller's own dependent action may issue its next command on that
 *       thread (the fastest path, as libiscsi's event loop); a transport bounds such a send by
 *       its progress timeout, so a full socket fails the connection rather than hanging. A
 *       blocking call there would wait for itself, so {@link #requireMayBlock} refuses it.</li>
 *   <li>The worker (one virtual thread) also runs aborts, recovery, transport moves and logout,
 *       one at a time.</li>
 *   <li>A sweeper on the initiator's timer finds timed-out commands and idle connections.</li>
 * </ul>
 *
 * <h2>Locks</h2>
 * The {@linkplain CommandQueue#sendLock send lock} orders CmdSN assignment with sends, and every
 * change of {@link #state} and {@link #current} happens under it; both are volatile, so the
 * receive thread and the sweeper read them without it. Inside it (or alone) come the window's
 * monitor and the drain's; immediate requests and the sent-command table need no lock.
 */
final class IscsiSession implements Session, SessionConnection.Listener {

    static final System.Logger LOG = System.getLogger(IscsiSession.class.getName());
    private static final Duration SWEEP_PERIOD = Duration.ofMillis(250);
    private static final int RESERVED_TAG = Pdu.RESERVED_TAG;

    enum State { LOGGED_IN, RECOVERING, MOVING, LOGGING_OUT, CLOSED, FAILED }

    final SessionOptions options;
    private final long isid;
    final String targetName;
    private final Consumer<IscsiSession> onClosed;

    // The rooms, reached through the session by one another.
    final CommandQueue queue;
    final ImmediateRequests requests;
    final Logout logout;
    final Recovery recovery;
    final Timeouts timeouts;
    final SessionEvents events;
    private final PduDispatch dispatch;
    final TransportRegistry transports;
    /** The worker's thread, so that a call that would wait for it can refuse to run on it. */
    private volatile Thread workerThread;
    /** The transport thread that delivered the last PDU; see {@link #requireMayBlock}. */
    private Thread deliveringThread;
    private final ExecutorService worker;
    private final ScheduledFuture<?> sweeper;

    /** Written under the send lock. */
    volatile State state;
    /** The connection in full-feature phase, null while there is none; written under the send lock. */
    volatile SessionConnection current;
    /** The last login: keys, TSIH, and the negotiated Time2Wait a recovery waits. */
    volatile LoginResult login;
    private volatile Throwable failure;

    IscsiSession(SessionOptions options, Connector connector, TransportRegistry transports, long isid, LoginResult first,
                 ScheduledExecutorService timer, Consumer<IscsiSession> onClosed) throws TransportException {
        this.options = options;
        this.transports = transports;
        this.isid = isid;
        this.targetName = options.targetName().orElseThrow();
        this.onClosed = onClosed;
        // The rooms come first: adopt starts the connection, whose receive thread calls them at once.
        this.queue = new CommandQueue(this);
        this.requests = new ImmediateRequests(this);
        this.logout = new Logout(this);
        this.recovery = new Recovery(this, connector);
        this.timeouts = new Timeouts(this);
        this.events = new SessionEvents(this, isid);
        this.dispatch = new PduDispatch(this);
        java.util.concurrent.ThreadFactory virtual = Thread.ofVirtual().name("ostia-session-" + Long.toHexString(isid)).factory();
        this.worker = Executors.newSingleThreadExecutor(r -> {
            Thread t = virtual.newThread(r);
            workerThread = t;
            return t;
        });
        try {
            adopt(first);
        } catch (TransportException | RuntimeException e) {
            // The session never existed: release what it was given and what it started.
            first.connection().release(StopMode.TERMINATE);
            worker.shutdown();
            throw e;
        }
        this.state = State.LOGGED_IN;
        this.sweeper = timer.scheduleWithFixedDelay(timeouts::sweep, SWEEP_PERIOD.toMillis(), SWEEP_PERIOD.toMillis(),
                TimeUnit.MILLISECONDS);
    }

    /** Takes a freshly logged-in connection as the session's own and starts it. */
    void adopt(LoginResult result) throws TransportException {
        queue.window.reset(result.cmdSN(), result.cmdSN(), result.maxCmdSN());
        login = result;
        current = result.connection();
        timeouts.received();
        result.connection().enterFullFeaturePhase(this, result.expStatSN());
    }

    // ---- Session API ----

    @Override
    public String targetName() {
        return targetName;
    }

    @Override
    public String transport() {
        SessionConnection c = current;
        return c == null ? "(reconnecting)" : c.transport.name();
    }

    @Override
    public long isid() {
        return isid;
    }

    @Override
    public int tsih() {
        return login.tsih();
    }

    @Override
    public Map<String, String> negotiatedParameters() {
        return login.keys();
    }

    @Override
    public boolean isOpen() {
        State s = state;
        return s == State.LOGGED_IN || s == State.RECOVERING || s == State.MOVING;
    }

    @Override
    public CompletableFuture<ScsiResult> execute(ScsiRequest request) {
        Task task = new Task(request);
        queue.submit(task);
        return task.future();
    }

    /** Submits a reused task (a block device's slot): no future, no new task per command. */
    void submit(Task task) {
        queue.submit(task);
    }

    @Override
    public List<Integer> reportLuns() throws IscsiException {
        try (Arena arena = Arena.ofShared()) {
            int length = 8 + 8 * 256;
            MemorySegment buffer = arena.allocate(length);
            ScsiResult result = executeOrThrow(ScsiRequest.read(0, Cdb.reportLuns(length), buffer));
            byte[] data = buffer.toArray(ValueLayout.JAVA_BYTE);
            int received = (int) (length - Math.max(0, result.residual()));
            return Luns.parseReportLuns(data, received);
        }
    }

    @Override
    public BlockDevice open(int lun) throws IscsiException {
        return ScsiBlockDevice.open(this, lun, options.commandTimeout());
    }

    @Override
    public ScsiResult executeOrThrow(ScsiRequest request) throws IscsiException {
        requireMayBlock("a blocking " + request.describe());
        return Session.super.executeOrThrow(request);
    }

    @Override
    public long ping() throws IscsiException {
        requireMayBlock("a NOP-Out ping");
        int itt = queue.nextTag();
        CompletableFuture<Pdu> answer = new CompletableFuture<>();
        long start = System.nanoTime();
        requests.send(itt, answer, conn -> new NopOut(true, 0, itt, RESERVED_TAG, queue.window.peek(), conn.expStatSN(),
                Pdu.NO_DATA));
        requests.await(answer, options.nopTimeout(), "NOP-Out ping");
        return System.nanoTime() - start;
    }

    @Override
    public Duration switchTransport(String transportName) throws IscsiException {
        Objects.requireNonNull(transportName, "transportName");
        requireMayBlock("switchTransport (it waits for the move)");
        if (Thread.currentThread() == workerThread) {
            throw new IllegalStateException("switchTransport was called on the worker of the session to " + targetName
                    + ", which runs the move itself: call it from another thread");
        }
        if (!isOpen()) {
            throw closedError();
        }
        if (transports.find(transportName).isEmpty()) {
            throw new TransportException("session to " + targetName + " cannot move to transport " + transportName
                    + ": it is not available (available: " + transports.names() + ")");
        }
        Future<Duration> move;
        try {
            move = worker.submit(() -> recovery.switchTo(transportName));
        } catch (java.util.concurrent.RejectedExecutionException e) {
            throw closedError();
        }
        // Drain and logout, the new login, and if it fails a recovery within the replacement timeout.
        Duration bound = options.commandTimeout().plus(options.taskManagementTimeout()).plus(options.loginTimeout())
                .plus(options.replacementTimeout()).plusSeconds(5);
        try {
            return move.get(bound.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IscsiException("interrupted while moving the session to " + targetName + " to " + transportName, e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IscsiException iscsi) {
                throw iscsi;
            }
            throw new IscsiException("moving the session to " + targetName + " to " + transportName + " failed: "
                    + e.getCause(), e.getCause());
        } catch (TimeoutException e) {
            throw new IscsiTimeoutException("moving the session to " + targetName + " to " + transportName
                    + " did not finish within " + bound.toMillis() + " ms");
        }
    }

    @Override
    public void addListener(SessionListener listener) {
        events.add(listener);
    }

    @Override
    public void removeListener(SessionListener listener) {
        events.remove(listener);
    }

    @Override
    public void close() throws IscsiException {
        requireMayBlock("closing the session (a logout that waits for the commands in flight)");
        queue.sendLock.lock();
        try {
            if (state == State.CLOSED || state == State.LOGGING_OUT || state == State.FAILED) {
                return;
            }
            state = State.LOGGING_OUT;
        } finally {
            queue.sendLock.unlock();
        }
        try {
            worker.submit(logout::logout).get(options.commandTimeout().plus(options.taskManagementTimeout())
                    .plusSeconds(5).toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IscsiException("interrupted while logging out of " + targetName, e);
        } catch (ExecutionException e) {
            throw new IscsiException("logout of " + targetName + " failed: " + e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            throw new IscsiTimeoutException("logout of " + targetName + " did not finish in time");
        } finally {
            finish(State.CLOSED, closedError());
        }
    }

    // ---- the connection's events, each handed to its room ----

    @Override
    public void pduReceived(SessionConnection conn, Pdu pdu) {
        deliveringThread = Thread.currentThread();
        dispatch.pduReceived(conn, pdu);
    }

    @Override
    public void scsiResponseReceived(SessionConnection conn, ScsiResponseHolder response) {
        deliveringThread = Thread.currentThread();
        dispatch.scsiResponseReceived(conn, response);
    }

    @Override
    public void commandWindowUpdate(SessionConnection conn, int expCmdSN, int maxCmdSN) {
        dispatch.commandWindowUpdate(conn, expCmdSN, maxCmdSN);
    }

    @Override
    public void connectionFailed(SessionConnection conn, Throwable cause) {
        recovery.connectionFailed(conn, cause);
    }

    @Override
    public void transportLeaving(SessionConnection conn, IscsiTransport leaving) {
        recovery.transportLeaving(conn, leaving);
    }

    // ---- life and death ----

    /** Ends the session for good: fails what is left, stops timers and the worker. */
    void finish(State end, IscsiException error) {
        queue.sendLock.lock();
        try {
            if (state == State.CLOSED || state == State.FAILED) {
                return;
            }
            state = end;
            failure = error;
        } finally {
            queue.sendLock.unlock();
        }
        SessionConnection conn = current;
        current = null;
        if (conn != null) {
            conn.release(StopMode.TERMINATE);
        }
        queue.failAll(error);
        requests.failAll(error);
        // Before the worker shuts down: it still delivers what was handed to it.
        events.emit(end == State.FAILED ? new SessionEvent.RecoveryFailed(this, error) : new SessionEvent.LoggedOut(this));
        events.shutdown();
        sweeper.cancel(false);
        worker.shutdown();
        onClosed.accept(this);
    }

    void runOnWorker(Runnable action) {
        try {
            worker.execute(() -> {
                try {
                    action.run();
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.ERROR, "session worker task failed", e);
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            LOG.log(System.Logger.Level.DEBUG, () -> "session to " + targetName + " is closed; action dropped");
        }
    }

    IscsiException closedError() {
        Throwable f = failure;
        if (f instanceof IscsiException iscsi) {
            return new IscsiException("session to " + targetName + " is closed: " + iscsi.getMessage(), iscsi);
        }
        return new IscsiException("session to " + targetName + " is closed");
    }

    /**
     * Refuses a blocking call on the transport thread that delivers this session's answers:
     * it would wait for itself until the command timeout and recovery. That thread recorded
     * itself in {@link #deliveringThread}; a plain field suffices, as only it can match itself.
     */
    void requireMayBlock(String what) {
        if (Thread.currentThread() == deliveringThread) {
            throw new IllegalStateException(what + " was called on the transport thread that delivers the answers of "
                    + targetName + ", so it would wait for itself: chain an asynchronous call instead, or hand the"
                    + " blocking call to another thread");
        }
    }

    @Override
    public String toString() {
        return "session " + Long.toHexString(isid) + " to " + targetName + " (" + state + ", " + queue.window + ")";
    }
}
