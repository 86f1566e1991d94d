package io.ostia.initiator.internal;

import io.ostia.api.BlockDevice;
import io.ostia.api.IscsiException;
import io.ostia.api.IscsiTimeoutException;
import io.ostia.api.ProtocolException;
import io.ostia.api.ScsiRequest;
import io.ostia.api.ScsiResult;
import io.ostia.api.Session;
import io.ostia.api.SessionOptions;
import io.ostia.api.TransportException;
import io.ostia.api.pdu.AsyncMessage;
import io.ostia.api.pdu.DataIn;
import io.ostia.api.pdu.FullFeatureTargetPdu;
import io.ostia.api.pdu.LogoutRequest;
import io.ostia.api.pdu.LogoutResponse;
import io.ostia.api.pdu.NopIn;
import io.ostia.api.pdu.NopOut;
import io.ostia.api.pdu.Pdu;
import io.ostia.api.pdu.Reject;
import io.ostia.api.pdu.ScsiResponse;
import io.ostia.api.pdu.TaskManagementRequest;
import io.ostia.api.pdu.TaskManagementResponse;
import io.ostia.api.pdu.TaskTagTable;
import io.ostia.api.pdu.TextResponse;
import io.ostia.api.scsi.Cdb;
import io.ostia.api.scsi.Luns;
import io.ostia.api.scsi.ScsiStatus;
import io.ostia.api.scsi.SenseData;
import io.ostia.api.spi.IscsiTransport;
import io.ostia.api.spi.StopMode;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * A normal session with one connection at ErrorRecoveryLevel 0 (Linux libiscsi's session
 * layer, in one class).
 *
 * <h2>Threads</h2>
 * <ul>
 *   <li>Callers of {@link #execute} number and send their command themselves when the CmdSN
 *       window and queue depth allow (the fast path); otherwise the command waits in
 *       {@code pending}.</li>
 *   <li>The transport's receive thread delivers responses and completes tasks; the session never
 *       sends from it: what needs a send (the pending queue, NOP-In replies) goes to the
 *       session's worker. A caller's own dependent action may issue its next command on that
 *       thread (the fastest path, as libiscsi's event loop); a transport bounds such a send by
 *       its progress timeout, so a full socket fails the connection rather than hanging.</li>
 *   <li>The worker (one virtual thread) also runs aborts, recovery, transport moves and logout.</li>
 *   <li>A sweeper on the initiator's timer finds timed-out commands and idle connections.</li>
 * </ul>
 * {@code sendLock} orders CmdSN assignment with sends so commands leave in CmdSN order.
 */
final class IscsiSession implements Session, SessionConnection.Listener {

    private static final System.Logger LOG = System.getLogger(IscsiSession.class.getName());
    private static final Duration SWEEP_PERIOD = Duration.ofMillis(250);
    /** The longest a drain sleeps without looking again (see {@link #awaitSettled}). */
    private static final Duration SETTLE_SLICE = Duration.ofMillis(50);
    private static final int RESERVED_TAG = Pdu.RESERVED_TAG;
    /** A command that was in flight on this many lost connections fails rather than going again. */
    private static final int MAX_ATTEMPTS = 5;

    enum State { LOGGED_IN, RECOVERING, MOVING, LOGGING_OUT, CLOSED, FAILED }

    private final SessionOptions options;
    private final Connector connector;
    private final long isid;
    private final String targetName;
    private final Consumer<IscsiSession> onClosed;

    private final ReentrantLock sendLock = new ReentrantLock();
    private final CommandWindow window = new CommandWindow();
    /** Commands waiting for the window or the queue depth; guarded by sendLock. */
    private final ArrayDeque<Task> pending = new ArrayDeque<>();
    /**
     * pending's size, written under sendLock after every change, read without it by the paths
     * that free room (a completion, a window update) to decide whether a pump is needed.
     */
    private volatile int waiting;
    /** Notified when a sent command leaves the table or the connection changes, while a drain waits. */
    private final Object settled = new Object();
    private volatile boolean draining;
    /** The transport thread that delivered the last PDU; see {@link #requireMayBlock}. */
    private Thread deliveringThread;
    /** Sent commands by ITT. */
    private final TaskTagTable<Task> tasks = new TaskTagTable<>(128);
    /** Immediate requests waiting for their answer (NOP ping, task management, logout), by ITT. */
    private final ConcurrentHashMap<Integer, CompletableFuture<Pdu>> requests = new ConcurrentHashMap<>();
    private final AtomicInteger nextTag = new AtomicInteger(1);
    private final AtomicBoolean pumpScheduled = new AtomicBoolean();
    private final ExecutorService worker;
    private final ScheduledFuture<?> sweeper;

    private volatile State state;
    private volatile SessionConnection current;
    private volatile LoginResult login;
    private volatile Throwable failure;
    private volatile long lastReceiveNanos = System.nanoTime();
    private volatile int pingTag = RESERVED_TAG;
    /** When commands started waiting on a closed CmdSN window, 0 while they do not; sweeper only. */
    private long windowClosedSince;
    private volatile long pingSentNanos;

    IscsiSession(SessionOptions options, Connector connector, long isid, LoginResult first,
                 ScheduledExecutorService timer, Consumer<IscsiSession> onClosed) throws TransportException {
        this.options = options;
        this.connector = connector;
        this.isid = isid;
        this.targetName = options.targetName().orElseThrow();
        this.onClosed = onClosed;
        this.worker = Executors.newSingleThreadExecutor(
                Thread.ofVirtual().name("ostia-session-" + Long.toHexString(isid)).factory());
        try {
            adopt(first);
        } catch (TransportException | RuntimeException e) {
            // The session never existed: release what it was given and what it started.
            first.connection().release(StopMode.TERMINATE);
            worker.shutdown();
            throw e;
        }
        this.state = State.LOGGED_IN;
        this.sweeper = timer.scheduleWithFixedDelay(this::sweep, SWEEP_PERIOD.toMillis(), SWEEP_PERIOD.toMillis(),
                TimeUnit.MILLISECONDS);
    }

    /** Takes a freshly logged-in connection as the session's own and starts it. */
    private void adopt(LoginResult result) throws TransportException {
        window.reset(result.expCmdSN(), result.expCmdSN(), result.maxCmdSN());
        login = result;
        current = result.connection();
        lastReceiveNanos = System.nanoTime();
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
        sendLock.lock();
        try {
            State s = state;
            if (s == State.LOGGING_OUT || s == State.CLOSED || s == State.FAILED) {
                task.future.completeExceptionally(closedError());
                return task.future;
            }
            if (s == State.LOGGED_IN && pending.isEmpty() && canSendNow()) {
                sendNow(task);
            } else {
                pending.addLast(task);
                waiting = pending.size();
                // A completion or window update between canSendNow and the enqueue saw nothing
                // waiting and scheduled no pump; with waiting written, look again (one side sees the other).
                if (s == State.LOGGED_IN && canSendNow()) {
                    pump();
                }
            }
        } finally {
            sendLock.unlock();
        }
        return task.future;
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
        int itt = nextTag();
        CompletableFuture<Pdu> answer = new CompletableFuture<>();
        long start = System.nanoTime();
        sendRequest(itt, answer, conn -> new NopOut(true, 0, itt, RESERVED_TAG, window.peek(), conn.expStatSN(),
                Pdu.NO_DATA));
        await(answer, options.nopTimeout(), "NOP-Out ping");
        return System.nanoTime() - start;
    }

    @Override
    public void close() throws IscsiException {
        requireMayBlock("closing the session (a logout that waits for the commands in flight)");
        sendLock.lock();
        try {
            if (state == State.CLOSED || state == State.LOGGING_OUT || state == State.FAILED) {
                return;
            }
            state = State.LOGGING_OUT;
        } finally {
            sendLock.unlock();
        }
        try {
            worker.submit(this::logout).get(options.commandTimeout().plus(options.taskManagementTimeout())
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

    // ---- sending ----

    private boolean canSendNow() {
        return window.isOpen() && tasks.size() < options.queueDepth();
    }

    /** Numbers and sends a task; caller holds sendLock. */
    private void sendNow(Task task) {
        SessionConnection conn = current;
        int itt = nextTag();
        task.number(itt, window.take(), conn.expStatSN());
        task.sentOn = conn;
        task.aborting = false;
        task.deadline = System.nanoTime() + options.commandTimeout().toNanos();
        tasks.put(itt, task);
        try {
            conn.send(task);
        } catch (TransportException e) {
            // The connection is failing: the transport reports it, and recovery requeues the task.
            LOG.log(System.Logger.Level.DEBUG, () -> "send of " + task + " failed, left for recovery: " + e.getMessage());
        }
    }

    /** Sends what waits in {@code pending}, as far as window and depth allow; runs on the worker. */
    private void pump() {
        pumpScheduled.set(false);
        sendLock.lock();
        try {
            while ((state == State.LOGGED_IN || state == State.LOGGING_OUT) && !pending.isEmpty() && canSendNow()) {
                sendNow(pending.pollFirst());
                waiting = pending.size();
            }
        } finally {
            sendLock.unlock();
        }
    }

    private void schedulePump() {
        if (waiting > 0 && pumpScheduled.compareAndSet(false, true)) {
            runOnWorker(this::pump);
        }
    }

    private int nextTag() {
        int tag;
        do {
            tag = nextTag.getAndIncrement();
        } while (tag == RESERVED_TAG);
        return tag;
    }

    @FunctionalInterface
    private interface RequestBuilder {
        Pdu build(SessionConnection connection);
    }

    /** Sends an immediate request and registers where its answer goes. */
    private void sendRequest(int itt, CompletableFuture<Pdu> answer, RequestBuilder builder) throws IscsiException {
        SessionConnection conn = current;
        if (conn == null || !isOpen() && state != State.LOGGING_OUT) {
            throw closedError();
        }
        requests.put(itt, answer);
        try {
            conn.send(builder.build(conn));
        } catch (TransportException e) {
            requests.remove(itt);
            throw e;
        }
    }

    private Pdu await(CompletableFuture<Pdu> answer, Duration timeout, String what) throws IscsiException {
        try {
            return answer.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            throw new IscsiTimeoutException(what + " to " + targetName + " got no answer within " + timeout.toMillis() + " ms");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IscsiException("interrupted while waiting for " + what, e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IscsiException iscsi) {
                throw iscsi;
            }
            throw new IscsiException(what + " failed: " + e.getCause(), e.getCause());
        } finally {
            requests.values().remove(answer);
        }
    }

    // ---- receiving (transport receive thread) ----

    @Override
    public void pduReceived(SessionConnection conn, Pdu pdu) {
        deliveringThread = Thread.currentThread();
        if (conn != current) {
            return;
        }
        lastReceiveNanos = System.nanoTime();
        if (pdu instanceof FullFeatureTargetPdu status && status.statusPresent()) {
            // Before the completion: a dependent command issued from it must see the new window.
            statusReceived(conn, status);
        }
        switch (pdu) {
            case ScsiResponse r -> completeTask(r.initiatorTaskTag(), r.response(), r.status(), r.data(),
                    r.residualUnderflow() ? r.residualCount() : r.residualOverflow() ? -r.residualCount() : 0);
            case DataIn d when d.statusPresent() -> completeTask(d.initiatorTaskTag(), 0, d.status(), Pdu.NO_DATA,
                    d.residualUnderflow() ? d.residualCount() : d.residualOverflow() ? -d.residualCount() : 0);
            case NopIn n -> nopIn(conn, n);
            case TaskManagementResponse _, LogoutResponse _, TextResponse _ -> answer(pdu.initiatorTaskTag(), pdu);
            case AsyncMessage m -> asyncMessage(conn, m);
            case Reject r -> reject(conn, r);
            default -> connectionFailed(conn, new ProtocolException("Opcode",
                    pdu.opcode() + " is not expected in full-feature phase of a normal session"));
        }
    }

    @Override
    public void commandWindowUpdate(SessionConnection conn, int expCmdSN, int maxCmdSN) {
        if (conn == current && window.update(expCmdSN, maxCmdSN)) {
            schedulePump();
        }
    }

    private void statusReceived(SessionConnection conn, FullFeatureTargetPdu status) {
        conn.statSNReceived(status.statSN());
        if (window.update(status.expCmdSN(), status.maxCmdSN())) {
            schedulePump();
        }
    }

    private void completeTask(int itt, int response, int status, MemorySegment data, long residual) {
        Task task = tasks.remove(itt);
        settle();
        if (task == null) {
            // An aborted or cleaned-up task's response may still cross the wire.
            LOG.log(System.Logger.Level.DEBUG, () -> String.format("response for unknown ITT 0x%08x ignored", itt));
            return;
        }
        schedulePump();
        if (response != 0) {
            task.future.completeExceptionally(new IscsiException(String.format(
                    "%s: target failure (iSCSI response 0x%02x), status not valid", task, response)));
            return;
        }
        ScsiStatus scsiStatus;
        try {
            scsiStatus = ScsiStatus.of(status);
        } catch (IllegalArgumentException e) {
            task.future.completeExceptionally(new ProtocolException("Status", task + ": " + e.getMessage()));
            return;
        }
        Optional<SenseData> sense;
        try {
            sense = senseIn(data);
        } catch (ProtocolException e) {
            task.future.completeExceptionally(new ProtocolException(e.field(), task + ": " + e.getMessage()));
            return;
        }
        task.future.complete(new ScsiResult(scsiStatus, sense, residual));
    }

    private void answer(int itt, Pdu pdu) {
        CompletableFuture<Pdu> waiting = requests.remove(itt);
        if (waiting != null) {
            waiting.complete(pdu);
        } else {
            LOG.log(System.Logger.Level.DEBUG, () -> pdu.opcode() + " for unknown ITT " + Integer.toHexString(itt) + " ignored");
        }
    }

    private void nopIn(SessionConnection conn, NopIn n) {
        if (n.initiatorTaskTag() != RESERVED_TAG) {
            // Our ping's answer: StatSN is valid but not advanced (RFC 7143 11.19).
            window.update(n.expCmdSN(), n.maxCmdSN());
            if (n.initiatorTaskTag() == pingTag) {
                pingTag = RESERVED_TAG; // a keepalive: nobody waits for it
            } else {
                answer(n.initiatorTaskTag(), n);
            }
            return;
        }
        if (window.update(n.expCmdSN(), n.maxCmdSN())) {
            schedulePump();
        }
        if (n.targetTransferTag() != RESERVED_TAG) {
            // The target pings us: answer with its TTT and its ping data, off the receive thread.
            MemorySegment echo = n.data().byteSize() == 0 ? Pdu.NO_DATA
                    : MemorySegment.ofArray(n.data().toArray(ValueLayout.JAVA_BYTE));
            runOnWorker(() -> {
                try {
                    conn.send(new NopOut(true, n.lun(), RESERVED_TAG, n.targetTransferTag(), window.peek(),
                            conn.expStatSN(), echo));
                } catch (TransportException e) {
                    LOG.log(System.Logger.Level.DEBUG, () -> "NOP-Out reply not sent: " + e.getMessage());
                }
            });
        }
    }

    private void asyncMessage(SessionConnection conn, AsyncMessage m) {
        switch (m.event()) {
            case SCSI_ASYNC_EVENT -> LOG.log(System.Logger.Level.INFO, () -> targetName + " reports a SCSI event on LUN "
                    + Luns.decode(m.lun()) + describeSense(m.data()));
            case LOGOUT_REQUESTED -> {
                LOG.log(System.Logger.Level.INFO, () -> targetName + " asks for logout within " + m.parameter3()
                        + " s; logging out and back in");
                runOnWorker(() -> reconnect(conn, "the target asked for a logout", Set.of(), true));
            }
            case CONNECTION_DROPPED, SESSION_DROPPED -> connectionFailed(conn, new TransportException(targetName
                    + " dropped the " + (m.event() == AsyncMessage.Event.SESSION_DROPPED ? "session" : "connection")
                    + " (Time2Wait " + m.parameter2() + " s)"));
            case NEGOTIATION_REQUESTED -> runOnWorker(() -> reconnect(conn,
                    "the target asked for parameter negotiation", Set.of(), true));
            default -> LOG.log(System.Logger.Level.WARNING, () -> targetName + " sent async event " + m.event()
                    + " (vendor code " + m.vendorCode() + "), ignored");
        }
    }

    private static String describeSense(MemorySegment data) {
        try {
            return senseIn(data).map(sense -> ": " + sense).orElse("");
        } catch (ProtocolException e) {
            return " (undecodable sense: " + e.getMessage() + ")";
        }
    }

    /** The sense data of a SCSI Response or Async Message data segment: SenseLength, then the sense bytes. */
    private static Optional<SenseData> senseIn(MemorySegment data) throws ProtocolException {
        if (data.byteSize() < 2) {
            return Optional.empty();
        }
        int length = Short.toUnsignedInt(data.get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(java.nio.ByteOrder.BIG_ENDIAN), 0));
        if (length == 0) {
            return Optional.empty();
        }
        if (length > data.byteSize() - 2) {
            throw new ProtocolException("SenseLength", "SenseLength " + length + " exceeds the "
                    + (data.byteSize() - 2) + " bytes of sense data sent");
        }
        byte[] bytes = data.asSlice(2, length).toArray(ValueLayout.JAVA_BYTE);
        try {
            return Optional.of(SenseData.decode(bytes, 0, length));
        } catch (IllegalArgumentException e) {
            throw new ProtocolException("SenseData", e.getMessage(), e);
        }
    }

    private void reject(SessionConnection conn, Reject r) {
        // The data segment is the rejected PDU's header: its ITT is at bytes 16..19.
        if (r.data().byteSize() < 48) {
            connectionFailed(conn, new ProtocolException("DataSegmentLength",
                    "Reject (" + r.reason() + ") without the rejected header"));
            return;
        }
        int itt = r.data().get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(java.nio.ByteOrder.BIG_ENDIAN), 16);
        ProtocolException error = new ProtocolException("Reject",
                String.format("%s rejected the PDU with ITT 0x%08x: %s", targetName, itt, r.reason()));
        Task task = tasks.remove(itt);
        if (task != null) {
            settle();
            task.future.completeExceptionally(error);
            schedulePump();
            return;
        }
        CompletableFuture<Pdu> request = requests.remove(itt);
        if (request != null) {
            request.completeExceptionally(error);
            return;
        }
        LOG.log(System.Logger.Level.WARNING, error::getMessage);
    }

    // ---- failures, recovery, transport moves (worker) ----

    @Override
    public void connectionFailed(SessionConnection conn, Throwable cause) {
        sendLock.lock();
        try {
            // MOVING too: a connection that dies while the session drains it for a move is recovered now.
            if (conn != current || state != State.LOGGED_IN && state != State.LOGGING_OUT && state != State.MOVING) {
                return;
            }
            current = null;
            settle();
            if (state == State.LOGGING_OUT) {
                failOutstanding(new TransportException("connection to " + targetName + " failed during logout: "
                        + cause.getMessage(), cause));
                return;
            }
            state = State.RECOVERING;
        } finally {
            sendLock.unlock();
        }
        LOG.log(System.Logger.Level.WARNING, () -> "session to " + targetName + " lost its " + conn + ": "
                + cause.getMessage() + "; recovering");
        runOnWorker(() -> recover(conn, cause, Set.of()));
    }

    @Override
    public void transportLeaving(SessionConnection conn, IscsiTransport leaving) {
        LOG.log(System.Logger.Level.INFO, () -> "transport " + leaving.name() + " is leaving; moving the session to "
                + targetName + " elsewhere");
        runOnWorker(() -> reconnect(conn, "transport " + leaving.name() + " is leaving", Set.of(leaving.name()), false));
    }

    /**
     * Moves the session to a new connection gracefully: new commands wait, in-flight ones finish
     * (bounded by the command timeout), logout, then login with the same ISID.
     */
    private void reconnect(SessionConnection conn, String why, Set<String> excluded, boolean sameTransportOk) {
        sendLock.lock();
        try {
            if (conn != current || state != State.LOGGED_IN) {
                return;
            }
            state = State.MOVING;
        } finally {
            sendLock.unlock();
        }
        awaitSettled(conn, false, System.nanoTime() + options.commandTimeout().toNanos());
        if (conn != current) {
            return; // the connection failed while draining: recovery took over
        }
        try {
            logoutConnection(conn);
        } catch (IscsiException e) {
            LOG.log(System.Logger.Level.WARNING, () -> "logout before moving the session failed: " + e.getMessage());
        }
        sendLock.lock();
        try {
            current = null;
            state = State.RECOVERING;
        } finally {
            sendLock.unlock();
        }
        recover(conn, new TransportException(why), excluded);
    }

    /**
     * ERL0 recovery: release the old connection, requeue what was in flight, log in again with
     * the same ISID until it works or the replacement timeout passes.
     *
     * <p>{@code excluded} (a leaving transport) is skipped on the first attempt only, so that the
     * session moves at once to another transport if there is one. Later attempts try every
     * transport of the preference again: a transport that is still leaving refuses the connect,
     * and one that came back (its bundle started again) is a name with a new service behind it.
     */
    private void recover(SessionConnection old, Throwable cause, Set<String> excluded) {
        old.release(StopMode.RECOVER);
        requeueInFlight(cause);
        failRequests(new TransportException("connection to " + targetName + " was lost: " + cause.getMessage(), cause));
        long deadline = System.nanoTime() + options.replacementTimeout().toNanos();
        IscsiException last = null;
        Duration backoff = Duration.ofMillis(100);
        Set<String> skip = excluded;
        while (state == State.RECOVERING) {
            try {
                LoginResult result = connector.connect(options, isid, skip);
                sendLock.lock();
                try {
                    if (state != State.RECOVERING) {
                        result.connection().release(StopMode.TERMINATE);
                        return;
                    }
                    adopt(result);
                    state = State.LOGGED_IN;
                } finally {
                    sendLock.unlock();
                }
                LOG.log(System.Logger.Level.INFO, () -> "session to " + targetName + " recovered on "
                        + result.connection());
                pump();
                return;
            } catch (IscsiException e) {
                last = e;
            }
            skip = Set.of();
            long remaining = deadline - System.nanoTime();
            if (remaining <= 0) {
                break;
            }
            sleepQuietly(Duration.ofNanos(Math.min(remaining, backoff.toNanos())));
            backoff = backoff.multipliedBy(2).compareTo(Duration.ofSeconds(2)) > 0 ? Duration.ofSeconds(2) : backoff.multipliedBy(2);
        }
        if (state == State.RECOVERING) {
            IscsiException last0 = last;
            TransportException error = new TransportException("session to " + targetName + " lost its connection ("
                    + cause.getMessage() + ") and no new one came up within the replacement timeout of "
                    + options.replacementTimeout().toSeconds() + " s" + (last0 == null ? "" : ": " + last0.getMessage()), cause);
            finish(State.FAILED, error);
        }
    }

    /** Puts every sent task back at the head of the queue, in CmdSN order. */
    private void requeueInFlight(Throwable cause) {
        sendLock.lock();
        try {
            List<Task> inFlight = tasks.removeAll();
            inFlight.sort(Comparator.comparingLong(t -> Integer.toUnsignedLong(t.command().cmdSN())));
            for (int i = inFlight.size() - 1; i >= 0; i--) {
                Task t = inFlight.get(i);
                t.sentOn = null;
                if (t.aborting) {
                    t.future.completeExceptionally(new IscsiTimeoutException(t + " timed out and its abort did not finish"));
                } else if (++t.attempts >= MAX_ATTEMPTS) {
                    t.future.completeExceptionally(new TransportException(t + " was in flight on " + t.attempts
                            + " connections that failed; the last failure: " + cause.getMessage(), cause));
                } else {
                    pending.addFirst(t);
                }
            }
            waiting = pending.size();
        } finally {
            sendLock.unlock();
        }
    }

    private void failRequests(IscsiException error) {
        for (Integer itt : List.copyOf(requests.keySet())) {
            CompletableFuture<Pdu> f = requests.remove(itt);
            if (f != null) {
                f.completeExceptionally(error);
            }
        }
    }

    private void failOutstanding(IscsiException error) {
        sendLock.lock();
        try {
            for (Task t : tasks.removeAll()) {
                t.future.completeExceptionally(error);
            }
            for (Task t; (t = pending.pollFirst()) != null; ) {
                t.future.completeExceptionally(error);
            }
            waiting = 0;
        } finally {
            sendLock.unlock();
        }
        failRequests(error);
    }

    /** Ends the session for good: fails what is left, stops timers and the worker. */
    private void finish(State end, IscsiException error) {
        sendLock.lock();
        try {
            if (state == State.CLOSED || state == State.FAILED) {
                return;
            }
            state = end;
            failure = error;
        } finally {
            sendLock.unlock();
        }
        SessionConnection conn = current;
        current = null;
        if (conn != null) {
            conn.release(StopMode.TERMINATE);
        }
        failOutstanding(error);
        sweeper.cancel(false);
        worker.shutdown();
        onClosed.accept(this);
    }

    /** Logout on the worker: let outstanding commands finish, then Logout and release. */
    private Void logout() throws IscsiException {
        long deadline = System.nanoTime() + options.commandTimeout().toNanos();
        // Recovery may replace the connection meanwhile: drain whichever is current.
        for (SessionConnection c; (c = current) != null && !settled(true) && System.nanoTime() < deadline; ) {
            awaitSettled(c, true, deadline);
        }
        SessionConnection conn = current;
        if (conn == null) {
            return null; // recovery never came back: nothing to log out of
        }
        int left = tasks.size() + waiting;
        try {
            logoutConnection(conn);
        } finally {
            current = null;
            conn.release(StopMode.TERMINATE);
        }
        if (left > 0) {
            throw new IscsiTimeoutException(left + " commands to " + targetName + " did not finish within "
                    + options.commandTimeout().toSeconds() + " s before logout");
        }
        return null;
    }

    private void logoutConnection(SessionConnection conn) throws IscsiException {
        int itt = nextTag();
        CompletableFuture<Pdu> answer = new CompletableFuture<>();
        requests.put(itt, answer);
        try {
            conn.send(new LogoutRequest(true, LogoutRequest.Reason.CLOSE_SESSION, itt, 0, window.peek(), conn.expStatSN()));
        } catch (TransportException e) {
            requests.remove(itt);
            throw e;
        }
        LogoutResponse response = (LogoutResponse) await(answer, options.taskManagementTimeout(), "Logout");
        if (response.response() != LogoutResponse.Response.CLOSED_SUCCESSFULLY) {
            throw new IscsiException("logout of " + targetName + " answered " + response.response());
        }
    }

    // ---- timeouts and pings (sweeper on the initiator's timer; actions on the worker) ----

    private void sweep() {
        try {
            if (state != State.LOGGED_IN) {
                return;
            }
            long now = System.nanoTime();
            for (Task t : tasks.values()) {
                if (!t.aborting && now - t.deadline > 0) {
                    t.aborting = true;
                    runOnWorker(() -> abort(t));
                }
            }
            SessionConnection conn = current;
            if (conn == null) {
                return;
            }
            // A target that keeps MaxCmdSN shut with commands waiting would hold them forever:
            // after the command timeout that is a connection failure, and recovery opens a new window.
            if (waiting > 0 && !window.isOpen()) {
                if (windowClosedSince == 0) {
                    windowClosedSince = now;
                } else if (now - windowClosedSince > options.commandTimeout().toNanos()) {
                    windowClosedSince = 0;
                    connectionFailed(conn, new IscsiTimeoutException(targetName + " kept its command window closed ("
                            + window + ") for " + options.commandTimeout().toMillis() + " ms with commands waiting"));
                    return;
                }
            } else {
                windowClosedSince = 0;
            }
            if (pingTag != RESERVED_TAG && now - pingSentNanos > options.nopTimeout().toNanos()) {
                pingTag = RESERVED_TAG;
                connectionFailed(conn, new IscsiTimeoutException("no NOP-In from " + targetName + " within "
                        + options.nopTimeout().toMillis() + " ms of a NOP-Out: the target or the path is dead"));
            } else if (!options.nopInterval().isZero() && pingTag == RESERVED_TAG
                    && now - lastReceiveNanos > options.nopInterval().toNanos()) {
                runOnWorker(() -> keepalive(conn));
            }
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "session sweeper failed", e);
        }
    }

    private void keepalive(SessionConnection conn) {
        int itt = nextTag();
        pingSentNanos = System.nanoTime();
        pingTag = itt;
        try {
            conn.send(new NopOut(true, 0, itt, RESERVED_TAG, window.peek(), conn.expStatSN(), Pdu.NO_DATA));
        } catch (TransportException e) {
            pingTag = RESERVED_TAG;
            LOG.log(System.Logger.Level.DEBUG, () -> "keepalive NOP-Out not sent: " + e.getMessage());
        }
    }

    /** ABORT TASK for a timed-out command; LOGICAL UNIT RESET if that fails; connection failure last. */
    private void abort(Task task) {
        SessionConnection conn = task.sentOn;
        if (conn == null || conn != current || !tasks.containsKey(task.itt())) {
            return;
        }
        IscsiTimeoutException timeout = new IscsiTimeoutException(task + " got no response within "
                + options.commandTimeout().toMillis() + " ms and was aborted");
        try {
            TaskManagementResponse.Response r = taskManagement(conn, TaskManagementRequest.Function.ABORT_TASK, task);
            if (r == TaskManagementResponse.Response.FUNCTION_COMPLETE
                    || r == TaskManagementResponse.Response.TASK_DOES_NOT_EXIST) {
                if (tasks.remove(task.itt(), task)) {
                    settle();
                    conn.cleanup(task);
                    task.future.completeExceptionally(timeout);
                    schedulePump();
                }
                return;
            }
            LOG.log(System.Logger.Level.WARNING, () -> "ABORT TASK for " + task + " answered " + r + "; resetting the LUN");
        } catch (IscsiException e) {
            LOG.log(System.Logger.Level.WARNING, () -> "ABORT TASK for " + task + " failed (" + e.getMessage()
                    + "); resetting the LUN");
        }
        try {
            TaskManagementResponse.Response r = taskManagement(conn, TaskManagementRequest.Function.LOGICAL_UNIT_RESET, task);
            if (r == TaskManagementResponse.Response.FUNCTION_COMPLETE) {
                int lun = task.request.lun();
                for (Task t : tasks.values()) {
                    if (t.request.lun() == lun && tasks.remove(t.itt(), t)) {
                        settle();
                        conn.cleanup(t);
                        t.future.completeExceptionally(t == task ? timeout
                                : new IscsiException(t + " was aborted by a LUN reset after " + task + " timed out"));
                    }
                }
                schedulePump();
                return;
            }
            connectionFailed(conn, new IscsiTimeoutException("LUN reset after " + task + " timed out answered " + r));
        } catch (IscsiException e) {
            connectionFailed(conn, new IscsiTimeoutException("LUN reset after " + task + " timed out failed: "
                    + e.getMessage()));
        }
    }

    private TaskManagementResponse.Response taskManagement(SessionConnection conn, TaskManagementRequest.Function function,
                                                           Task task) throws IscsiException {
        int itt = nextTag();
        CompletableFuture<Pdu> answer = new CompletableFuture<>();
        boolean abortTask = function == TaskManagementRequest.Function.ABORT_TASK;
        sendRequest(itt, answer, c -> new TaskManagementRequest(true, function, Luns.encode(task.request.lun()), itt,
                abortTask ? task.itt() : RESERVED_TAG, window.peek(), c.expStatSN(),
                abortTask ? task.command().cmdSN() : 0, 0));
        return ((TaskManagementResponse) await(answer, options.taskManagementTimeout(), function.toString())).response();
    }

    // ---- helpers ----

    private void runOnWorker(Runnable action) {
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

    private IscsiException closedError() {
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

    private static void sleepQuietly(Duration d) {
        try {
            Thread.sleep(d);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private boolean settled(boolean withWaiting) {
        return tasks.isEmpty() && (!withWaiting || waiting == 0);
    }

    /** Wakes a drain, if one waits, after a sent command left the table or the connection changed. */
    private void settle() {
        if (draining) {
            synchronized (settled) {
                settled.notifyAll();
            }
        }
    }

    /**
     * Waits, on the worker, until no sent command is left on {@code conn} (with {@code
     * withWaiting}, none waits either: it sends what the window allows as it goes), until the
     * deadline, or until {@code conn} is no longer current. Completions wake it; the slice
     * bounds a wake-up missed by a path that does not {@link #settle}.
     */
    private void awaitSettled(SessionConnection conn, boolean withWaiting, long deadline) {
        draining = true;
        try {
            while (conn == current && !settled(withWaiting)) {
                if (withWaiting) {
                    pump();
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return;
                }
                synchronized (settled) {
                    if (conn == current && !settled(withWaiting)) {
                        settled.wait(Math.min(SETTLE_SLICE.toMillis(), TimeUnit.NANOSECONDS.toMillis(left) + 1));
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            draining = false;
        }
    }

    @Override
    public String toString() {
        return "session " + Long.toHexString(isid) + " to " + targetName + " (" + state + ", " + window + ")";
    }
}
