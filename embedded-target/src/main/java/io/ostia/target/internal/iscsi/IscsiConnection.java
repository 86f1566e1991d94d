package io.ostia.target.internal.iscsi;

import io.ostia.api.pdu.AsyncMessage;
import io.ostia.api.pdu.DataIn;
import io.ostia.api.pdu.DataOut;
import io.ostia.api.pdu.LoginRequest;
import io.ostia.api.pdu.LogoutRequest;
import io.ostia.api.pdu.LogoutResponse;
import io.ostia.api.pdu.NopIn;
import io.ostia.api.pdu.NopOut;
import io.ostia.api.pdu.Opcode;
import io.ostia.api.pdu.Pdu;
import io.ostia.api.pdu.PduEncoder;
import io.ostia.api.pdu.PduFormatException;
import io.ostia.api.pdu.Reject;
import io.ostia.api.pdu.CommandHeader;
import io.ostia.api.pdu.ScsiCommand;
import io.ostia.api.pdu.ScsiCommandHolder;
import io.ostia.api.pdu.ScsiResponse;
import io.ostia.api.pdu.ScsiResponseHolder;
import io.ostia.api.pdu.SnackRequest;
import io.ostia.api.pdu.TaskManagementRequest;
import io.ostia.api.pdu.TaskManagementResponse;
import io.ostia.api.pdu.TextRequest;
import io.ostia.api.pdu.TextResponse;
import io.ostia.api.scsi.ScsiOpcode;
import io.ostia.api.scsi.ScsiStatus;
import io.ostia.api.scsi.SenseData;
import io.ostia.target.internal.scsi.LogicalUnit;
import io.ostia.target.internal.scsi.LunlessCommands;
import io.ostia.target.internal.scsi.ScsiTask;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.IntFunction;

/**
 * The session layer's side of one connection: login, then the full feature phase (SCSI commands,
 * task management, text, NOP, logout). Commands' data moves through a {@link DataMover}. Runs on
 * the transport's receive thread; only {@link #housekeeping}, {@link #requestLogout},
 * {@link #abortFromElsewhere} and {@link #shutdown} come from other threads.
 */
final class IscsiConnection implements PduHandler {

    private static final System.Logger LOG = System.getLogger(IscsiConnection.class.getName());
    private static final int NO_TAG = Pdu.RESERVED_TAG;
    private static final int MAX_HELD = 256;
    /** How often the receive thread looks for writes whose Data-Out is overdue. */
    private static final long EXPIRY_CHECK_NANOS = 1_000_000_000L;
    private static final RateLimitedLog PRE_LOGIN = new RateLimitedLog(LOG, java.time.Duration.ofSeconds(10));
    private static final RateLimitedLog LOGIN_TIMEOUT = new RateLimitedLog(LOG, java.time.Duration.ofSeconds(10));

    enum Phase { LOGIN, FULL_FEATURE, LOGGED_OUT, CLOSED }

    private final TargetServer server;
    private final PduTransport transport;
    private final Login login;
    private volatile Phase phase = Phase.LOGIN;
    private volatile TargetSession session;
    private SessionParameters params = SessionParameters.DEFAULTS;
    private final int connectionId;

    private final Object statLock = new Object();
    /** The SCSI Response being sent, reused per answer; guarded by {@link #statLock}, kept by no transport. */
    private final ScsiResponseHolder response = new ScsiResponseHolder();
    private int statSN = 1;

    // Receive-thread state
    private final ScsiTask scsiTask = new ScsiTask();
    /** Commands waiting for a CmdSN gap to fill, by CmdSN. */
    private final Map<Integer, Pdu> held = new HashMap<>();
    private final DataMover mover;
    private final TextExchange text = new TextExchange();
    private final java.util.Queue<Optional<LogicalUnit>> abortRequests = new java.util.concurrent.ConcurrentLinkedQueue<>();

    // Pings (receive thread writes lastReceived; the scheduler reads)
    private final long createdNanos = System.nanoTime();
    private volatile long lastReceivedNanos = createdNanos;
    private volatile long pingSentNanos;
    private volatile int pingTag = NO_TAG;
    /** Whether writes wait for Data-Out (receive thread writes; the scheduler reads). */
    private volatile boolean awaitingData;
    private long lastExpiryCheckNanos = createdNanos;

    /** A connection whose data moves in PDUs (TCP). */
    IscsiConnection(TargetServer server, PduTransport transport, int connectionId) {
        this(server, transport, connectionId, c -> new PduDataMover(c, transport, server.writeBudget()));
    }

    /** @param movers makes the data mover of this connection's transport */
    IscsiConnection(TargetServer server, PduTransport transport, int connectionId,
                    Function<IscsiConnection, DataMover> movers) {
        this.server = server;
        this.transport = transport;
        this.connectionId = connectionId;
        this.login = new Login(server, this);
        this.mover = movers.apply(this);
    }

    PduTransport transport() {
        return transport;
    }

    TargetSession session() {
        return session;
    }

    // ------------------------------------------------------------------ PduHandler

    @Override
    public MemorySegment destination(Pdu header, int length) {
        // Discovery sessions run no SCSI commands: their data is rejected, so needs no buffer.
        if (phase != Phase.FULL_FEATURE || session.discovery()) {
            return null;
        }
        // A command held for a CmdSN gap, or dropped, keeps its immediate data in a segment of
        // its own: a write buffer is lent only to a command that runs as soon as it arrives.
        if (header instanceof ScsiCommand c && !runsOnArrival(c)) {
            return null;
        }
        return mover.destination(header, length);
    }

    /** As {@link #destination(Pdu, int)}, for a command the transport decodes into its holder. */
    @Override
    public MemorySegment commandDestination(CommandHeader c, int length) {
        if (phase != Phase.FULL_FEATURE || session.discovery() || !runsOnArrival(c)) {
            return null;
        }
        return mover.commandDestination(c, length);
    }

    /**
     * Whether {@link #numbered} executes {@code c} at once: it is immediate, or carries the CmdSN
     * {@link TargetSession#admit} takes now.
     */
    private boolean runsOnArrival(CommandHeader c) {
        return c.immediate() || c.cmdSN() == expCmdSN();
    }

    @Override
    public void received(Pdu pdu) throws IOException {
        arrived();
        switch (phase) {
            case LOGIN -> {
                if (pdu instanceof LoginRequest request) {
                    login.handle(request);
                } else {
                    PRE_LOGIN.log(Level.WARNING, "connection from " + transport.remoteAddress() + ": " + pdu.opcode()
                            + " before login completed; closing the connection (RFC 7143 §6.3)");
                    transport.close();
                }
            }
            case FULL_FEATURE -> fullFeature(pdu);
            case LOGGED_OUT, CLOSED -> LOG.log(Level.DEBUG, "ignoring " + pdu.opcode() + " after logout");
        }
    }

    /**
     * A SCSI command in the transport's reused holder: run now when its
     * CmdSN is due, kept as a record only when held for a CmdSN gap (the holder is valid for this
     * call only).
     */
    @Override
    public void receivedCommand(ScsiCommandHolder c) throws IOException {
        if (phase != Phase.FULL_FEATURE) {
            received(c.toRecord()); // login or after logout: as any other PDU, not the hot path
            return;
        }
        arrived();
        if (c.immediate()) {
            scsiCommand(c, c.placedData(), c.dataSegmentLength());
        } else if (admit(c.cmdSN(), null, c)) {
            scsiCommand(c, c.placedData(), c.dataSegmentLength());
            drainHeld();
        }
    }

    /** What every arriving PDU does first: aborts asked for from other threads, the write expiry check. */
    private void arrived() throws IOException {
        long now = System.nanoTime();
        lastReceivedNanos = now;
        for (Optional<LogicalUnit> unit; (unit = abortRequests.poll()) != null; ) {
            abortTasks(unit.orElse(null));
        }
        if (phase == Phase.FULL_FEATURE && now - lastExpiryCheckNanos > EXPIRY_CHECK_NANOS) {
            lastExpiryCheckNanos = now;
            awaitingData = mover.expireWrites(now, server.settings().dataOutTimeout().toNanos());
        }
    }

    @Override
    public void malformed(PduFormatException e) {
        // The transport closes the connection: framing cannot be trusted after a malformed header.
        LOG.log(Level.DEBUG, "malformed PDU on " + describe() + " (field " + e.field() + ")", e);
    }

    @Override
    public void closed(Throwable cause) {
        Phase was = phase;
        phase = Phase.CLOSED;
        TargetSession s = session;
        if (s != null) {
            server.connectionClosed(s, this);
        } else {
            login.abandon();
        }
        mover.close();
        held.clear();
        if (cause != null && was != Phase.LOGGED_OUT) {
            LOG.log(Level.DEBUG, describe() + " ended: " + cause);
        }
    }

    String describe() {
        TargetSession s = session;
        return "connection from " + transport.remoteAddress() + (s == null ? "" : " (" + s + ")");
    }

    // ------------------------------------------------------------------ login hand-over

    /** Called by {@link Login} once the final login response is sent. */
    void enterFullFeature(TargetSession s, SessionParameters negotiated) {
        this.session = s;
        this.params = negotiated;
        transport.setDigests(negotiated.headerDigest(), negotiated.dataDigest());
        transport.setMaxRecvDataSegmentLength(negotiated.targetMaxRecvDataSegmentLength());
        transport.loggedIn();
        phase = Phase.FULL_FEATURE;
    }

    TargetServer server() {
        return server;
    }

    /** The parameters in force on this connection (receive thread only). */
    SessionParameters parameters() {
        return params;
    }

    /** The initiator declared a new MaxRecvDataSegmentLength in the full feature phase. */
    void initiatorMaxRecvDataSegmentLength(int bytes) {
        params = params.withInitiatorMaxRecvDataSegmentLength(bytes);
    }

    /** StatSN for a response: the current one, advanced when the response consumes it. */
    void sendNumbered(IntFunction<Pdu> build, boolean advance) throws IOException {
        synchronized (statLock) {
            int sn = statSN;
            if (advance) {
                statSN++;
            }
            transport.send(build.apply(sn));
        }
    }

    /** Sets the StatSN login starts from: the initiator's ExpStatSN on a new connection is not binding. */
    void startStatSN(int first) {
        synchronized (statLock) {
            statSN = first;
        }
    }

    int expCmdSN() {
        return session.expCmdSN();
    }

    int maxCmdSN() {
        return session.maxCmdSN();
    }

    // ------------------------------------------------------------------ full feature phase

    private void fullFeature(Pdu pdu) throws IOException {
        switch (pdu) {
            case DataOut d -> mover.dataOut(d);
            case NopOut n when n.initiatorTaskTag() == NO_TAG -> {
                if (n.targetTransferTag() == pingTag) {
                    pingTag = NO_TAG;
                }
            }
            case SnackRequest s -> reject(Reject.Reason.SNACK_REJECT, s);
            case LoginRequest l -> reject(Reject.Reason.PROTOCOL_ERROR, l);
            default -> numbered(pdu);
        }
    }

    private static int cmdSN(Pdu pdu) {
        return switch (pdu) {
            case ScsiCommand c -> c.cmdSN();
            case TaskManagementRequest t -> t.cmdSN();
            case TextRequest t -> t.cmdSN();
            case LogoutRequest l -> l.cmdSN();
            case NopOut n -> n.cmdSN();
            default -> throw new IllegalArgumentException("not numbered: " + pdu.opcode());
        };
    }

    private void numbered(Pdu pdu) throws IOException {
        if (pdu.immediate()) {
            execute(pdu);
            return;
        }
        if (admit(cmdSN(pdu), pdu, null)) {
            execute(pdu);
            drainHeld();
        }
    }

    /**
     * Whether the PDU numbered {@code sn} runs now; otherwise it is held for a CmdSN gap (a held
     * {@code view} as its record: the holder is reused by the next command) or dropped.
     */
    private boolean admit(int sn, Pdu pdu, ScsiCommandHolder view) {
        switch (session.admit(sn)) {
            case ACCEPT -> {
                return true;
            }
            case HOLD -> {
                if (held.size() >= MAX_HELD) {
                    LOG.log(Level.WARNING, describe() + ": too many commands waiting for a CmdSN gap; closing");
                    transport.close();
                    return false;
                }
                held.put(sn, pdu != null ? pdu : view.toRecord());
            }
            case DROP -> LOG.log(Level.DEBUG, describe() + ": dropping " + (pdu != null ? pdu.opcode() : Opcode.SCSI_COMMAND)
                    + " with CmdSN " + Integer.toUnsignedString(sn)
                    + " outside the window [" + Integer.toUnsignedString(expCmdSN()) + ", "
                    + Integer.toUnsignedString(maxCmdSN()) + "] (RFC 7143 §4.2.2.1)");
        }
        return false;
    }

    private void drainHeld() throws IOException {
        while (!held.isEmpty() && phase == Phase.FULL_FEATURE) {
            Pdu next = held.remove(session.expCmdSN());
            if (next == null || session.admit(cmdSN(next)) != TargetSession.Admission.ACCEPT) {
                return;
            }
            execute(next);
        }
    }

    private void execute(Pdu pdu) throws IOException {
        switch (pdu) {
            case ScsiCommand c -> scsiCommand(c, c.data(), (int) c.data().byteSize());
            case TaskManagementRequest t -> taskManagement(t);
            case TextRequest t -> text(t);
            case LogoutRequest l -> logout(l);
            case NopOut n -> sendNumbered(sn -> new NopIn(n.lun(), n.initiatorTaskTag(), NO_TAG, sn, expCmdSN(),
                    maxCmdSN(), n.data()), true);
            default -> reject(Reject.Reason.PROTOCOL_ERROR, pdu);
        }
    }

    void reject(Reject.Reason reason, Pdu rejected) throws IOException {
        ByteBuffer header = ByteBuffer.allocate(PduEncoder.MAX_HEADER_LENGTH);
        new PduEncoder(false, false).encodeHeader(rejected.withData(Pdu.NO_DATA), header);
        MemorySegment bhs = MemorySegment.ofArray(java.util.Arrays.copyOf(header.array(), PduEncoder.BHS_LENGTH));
        LOG.log(Level.DEBUG, describe() + ": rejecting " + rejected.opcode() + " (" + reason + ")");
        sendNumbered(sn -> new Reject(reason, sn, expCmdSN(), maxCmdSN(), 0, bhs), true);
    }

    // ------------------------------------------------------------------ SCSI commands

    /** {@code c} may be a reused holder, valid for this call only (see {@link DataMover#command}). */
    private void scsiCommand(CommandHeader c, MemorySegment placed, int immediateLength) throws IOException {
        if (session.discovery()) {
            reject(Reject.Reason.PROTOCOL_ERROR, ScsiCommand.of(c).withData(DataMover.immediateData(placed,
                    immediateLength)));
            return;
        }
        mover.command(c, placed, immediateLength, session.node().unit(c.lun()));
        if (c.write()) {
            awaitingData = true; // until the next expiry check says otherwise
        }
    }

    /** Executes a command whose write data, if any, is all in {@code dataOut}, and responds. */
    void runCommand(CommandHeader c, LogicalUnit unit, MemorySegment dataOut, long expected) throws IOException {
        MemorySegment dataIn = c.read() && expected > 0 ? mover.dataInBuffer(expected) : null;
        scsiTask.reset(c.cdb(), session.nexus(), dataOut, dataIn, c.read() ? expected : 0);
        if ((c.cdb()[0] & 0xff) == ScsiOpcode.REPORT_LUNS) {
            LunlessCommands.reportLuns(scsiTask, session.node().lunNumbersShared());
        } else if (unit == null) {
            LunlessCommands.noSuchLun(scsiTask, session.node().lunNumbersShared());
        } else {
            unit.execute(scsiTask);
        }
        mover.respond(c, scsiTask, expected);
    }

    /** Sense data as a response's data segment: SenseLength, then the fixed format (RFC 7143 §11.4.7). */
    static MemorySegment senseSegment(SenseData sense) {
        byte[] fixed = sense.encodeFixed();
        byte[] withLength = new byte[2 + fixed.length];
        withLength[0] = (byte) (fixed.length >>> 8);
        withLength[1] = (byte) fixed.length;
        System.arraycopy(fixed, 0, withLength, 2, fixed.length);
        return MemorySegment.ofArray(withLength);
    }

    /** TASK SET FULL: the target's buffer budget cannot take the command's data now; the initiator retries. */
    void respondTaskSetFull(CommandHeader c, long expected) throws IOException {
        respond(c.initiatorTaskTag(), ScsiStatus.TASK_SET_FULL.code(), false, true, (int) expected, 0, Pdu.NO_DATA);
    }

    /** CHECK CONDITION without data, for a command that ends before or instead of its data transfer. */
    void respondSense(CommandHeader c, SenseData sense, long expected) throws IOException {
        MemorySegment data = senseSegment(sense);
        boolean underflow = expected > 0;
        respond(c.initiatorTaskTag(), ScsiStatus.CHECK_CONDITION.code(), false, underflow, (int) expected, 0, data);
    }

    /** The last Data-In of a read, with status (phase collapse), numbered with the next StatSN; as {@link #respond}. */
    void sendStatusDataIn(long lun, int itt, boolean overflow, boolean underflow, int dataSN, int offset, int residual,
            MemorySegment data) throws IOException {
        synchronized (statLock) {
            int sn = statSN++;
            transport.send(new DataIn(true, false, overflow, underflow, true, 0, lun, itt, NO_TAG, sn, expCmdSN(),
                    maxCmdSN(), dataSN, offset, residual, data));
        }
    }

    /**
     * A SCSI Response (command completed at target) numbered with the next StatSN. Built here
     * under the StatSN lock rather than by a lambda given to {@link #sendNumbered}: a capturing
     * lambda per command is garbage.
     */
    void respond(int itt, int status, boolean overflow, boolean underflow, int residual, int expDataSN,
            MemorySegment sense) throws IOException {
        synchronized (statLock) {
            int sn = statSN++;
            if (sense.byteSize() == 0) { // the common answer: in the reused holder, no record
                transport.sendScsiResponse(response.set(false, false, overflow, underflow,
                        ScsiResponse.COMMAND_COMPLETED_AT_TARGET, status, itt, 0, sn, expCmdSN(), maxCmdSN(), expDataSN, 0,
                        residual));
                return;
            }
            transport.send(new ScsiResponse(false, false, overflow, underflow, ScsiResponse.COMMAND_COMPLETED_AT_TARGET,
                    status, itt, 0, sn, expCmdSN(), maxCmdSN(), expDataSN, 0, residual, sense));
        }
    }

    // ------------------------------------------------------------------ task management

    private void taskManagement(TaskManagementRequest t) throws IOException {
        TaskManagementResponse.Response response;
        if (session.discovery()) {
            reject(Reject.Reason.PROTOCOL_ERROR, t);
            return;
        }
        LogicalUnit unit = session.node().unit(t.lun());
        response = switch (t.function()) {
            case ABORT_TASK -> abortTask(t);
            case ABORT_TASK_SET, CLEAR_TASK_SET -> {
                if (unit == null) {
                    yield TaskManagementResponse.Response.LUN_DOES_NOT_EXIST;
                }
                abortTasks(unit);
                yield TaskManagementResponse.Response.FUNCTION_COMPLETE;
            }
            case LOGICAL_UNIT_RESET -> {
                if (unit == null) {
                    yield TaskManagementResponse.Response.LUN_DOES_NOT_EXIST;
                }
                abortTasks(unit);
                server.resetUnit(session, unit, true);
                yield TaskManagementResponse.Response.FUNCTION_COMPLETE;
            }
            case TARGET_WARM_RESET, TARGET_COLD_RESET -> {
                abortTasks(null);
                for (LogicalUnit u : session.node().units()) {
                    server.resetUnit(session, u, false);
                }
                yield TaskManagementResponse.Response.FUNCTION_COMPLETE;
            }
            case TASK_REASSIGN -> TaskManagementResponse.Response.TASK_ALLEGIANCE_REASSIGNMENT_NOT_SUPPORTED;
            case CLEAR_ACA -> TaskManagementResponse.Response.FUNCTION_NOT_SUPPORTED;
        };
        TaskManagementResponse.Response r = response;
        sendNumbered(sn -> new TaskManagementResponse(r, t.initiatorTaskTag(), sn, expCmdSN(), maxCmdSN()), true);
        if (t.function() == TaskManagementRequest.Function.TARGET_COLD_RESET) {
            // RFC 7143 §11.5.1: a cold reset is a warm reset that then closes every connection.
            server.coldReset(session);
            transport.flush();
            transport.close();
        }
    }

    private TaskManagementResponse.Response abortTask(TaskManagementRequest t) {
        if (mover.abort(t.referencedTaskTag(), t.lun())) {
            return TaskManagementResponse.Response.FUNCTION_COMPLETE;
        }
        for (Iterator<Pdu> it = held.values().iterator(); it.hasNext(); ) {
            Pdu pdu = it.next();
            if (pdu.initiatorTaskTag() == t.referencedTaskTag()) {
                it.remove();
                return TaskManagementResponse.Response.FUNCTION_COMPLETE;
            }
        }
        // RFC 7143 §11.5.1: a task not seen yet but within the window counts as received and aborted.
        if (session.notYetReceived(t.refCmdSN()) && io.ostia.api.pdu.SerialNumbers.lessThan(t.refCmdSN(), t.cmdSN())) {
            return TaskManagementResponse.Response.FUNCTION_COMPLETE;
        }
        return TaskManagementResponse.Response.TASK_DOES_NOT_EXIST;
    }

    /**
     * Drops the writes collecting data and the commands waiting for a CmdSN gap, for one LU or
     * (null) all; aborted tasks get no response (TAS is 0 in the Control mode page).
     */
    private void abortTasks(LogicalUnit unit) {
        mover.abort(unit);
        held.values().removeIf(p -> p instanceof ScsiCommand c && (unit == null || session.node().unit(c.lun()) == unit));
    }

    /**
     * A LUN RESET or TARGET WARM RESET on another session aborts this session's tasks on
     * {@code unit} (null: every LU) as well; the receive thread does it before its next PDU.
     */
    void abortFromElsewhere(LogicalUnit unit) {
        abortRequests.add(Optional.ofNullable(unit));
    }

    // ------------------------------------------------------------------ text, logout

    private void text(TextRequest t) throws IOException {
        List<TextResponse> responses = text.respond(t, this);
        if (responses == null) {
            reject(Reject.Reason.PROTOCOL_ERROR, t);
            return;
        }
        for (TextResponse r : responses) {
            sendNumbered(sn -> r.withStatSN(sn, expCmdSN(), maxCmdSN()), true);
        }
    }

    /** What SendTargets reports for this connection's session (RFC 7143 appendix C). */
    String sendTargets(String value) {
        StringBuilder out = new StringBuilder();
        String address = transport.localAddress();
        if (address.contains(":")) {
            address = "[" + address + "]";
        }
        String portal = address + ":" + transport.localPort() + "," + TargetServer.TPGT;
        TargetSession s = session;
        for (TargetNode node : server.nodes()) {
            boolean wanted = switch (value) {
                case "All" -> s.discovery();
                case "" -> !s.discovery() && node == s.node();
                default -> node.name().equals(value);
            };
            if (wanted) {
                out.append("TargetName=").append(node.name()).append('\0');
                out.append("TargetAddress=").append(portal).append('\0');
            }
        }
        return out.toString();
    }

    private void logout(LogoutRequest l) throws IOException {
        int refusedTime2Wait = server.takeLogoutRefusal();
        if (refusedTime2Wait >= 0) {
            // The test hook (TargetServer.refuseLogouts): the session stays; the initiator may close the connection.
            sendNumbered(sn -> new LogoutResponse(LogoutResponse.Response.CLEANUP_FAILED, l.initiatorTaskTag(), sn, expCmdSN(),
                    maxCmdSN(), refusedTime2Wait, 0), true);
            return;
        }
        LogoutResponse.Response response = switch (l.reason()) {
            case CLOSE_SESSION -> LogoutResponse.Response.CLOSED_SUCCESSFULLY;
            case CLOSE_CONNECTION -> l.connectionId() == connectionId ? LogoutResponse.Response.CLOSED_SUCCESSFULLY
                    : LogoutResponse.Response.CID_NOT_FOUND;
            case REMOVE_CONNECTION_FOR_RECOVERY -> LogoutResponse.Response.RECOVERY_NOT_SUPPORTED;
        };
        if (response == LogoutResponse.Response.CLOSED_SUCCESSFULLY) {
            phase = Phase.LOGGED_OUT;
            // The initiator may log in again and carry on as soon as it has the response, before
            // this connection is closed: its tasks and its nexus's hold on the LUs go first.
            mover.abort(null);
            held.clear();
            server.nexusEnded(session);
        }
        sendNumbered(sn -> new LogoutResponse(response, l.initiatorTaskTag(), sn, expCmdSN(), maxCmdSN(), 0, 0), true);
        if (phase == Phase.LOGGED_OUT) {
            transport.flush();
            transport.close();
        }
    }

    // ------------------------------------------------------------------ from other threads

    /**
     * Called periodically by the server's scheduler: closes a connection whose login has taken
     * longer than {@code loginTimeoutNanos}; in the full feature phase sends a NOP-In ping when
     * the initiator has been quiet for {@code idleNanos} (0: never), and closes the connection
     * when a ping stayed unanswered for {@code timeoutNanos}.
     */
    void housekeeping(long idleNanos, long timeoutNanos, long loginTimeoutNanos, long dataOutTimeoutNanos) {
        long now = System.nanoTime();
        if (phase == Phase.LOGIN) {
            if (now - createdNanos > loginTimeoutNanos) {
                LOGIN_TIMEOUT.log(Level.WARNING, describe() + ": login not completed in " + loginTimeoutNanos / 1_000_000
                        + " ms; closing the connection");
                transport.close();
            }
            return;
        }
        if (phase == Phase.FULL_FEATURE && awaitingData && now - lastReceivedNanos > dataOutTimeoutNanos) {
            // Writes wait for data and nothing arrives that would let the receive thread abort them.
            LOG.log(Level.WARNING, describe() + ": writes waited " + dataOutTimeoutNanos / 1_000_000
                    + " ms for Data-Out with nothing received; closing the connection");
            transport.close();
            return;
        }
        if (phase != Phase.FULL_FEATURE || idleNanos <= 0) {
            return;
        }
        if (pingTag != NO_TAG) {
            if (now - pingSentNanos > timeoutNanos && now - lastReceivedNanos > timeoutNanos) {
                LOG.log(Level.WARNING, describe() + ": no answer to a NOP-In ping in "
                        + timeoutNanos / 1_000_000 + " ms; closing the connection");
                transport.close();
            }
            return;
        }
        if (now - lastReceivedNanos < idleNanos) {
            return;
        }
        int tag = server.nextPingTag();
        pingSentNanos = now;
        pingTag = tag;
        sendAside("NOP-In ping", () -> sendNumbered(sn -> new NopIn(0, NO_TAG, tag, sn, expCmdSN(), maxCmdSN(),
                Pdu.NO_DATA), false));
    }

    /**
     * Sends from a short-lived virtual thread, so the caller (the server's scheduler, or close())
     * never blocks on a connection whose peer stopped reading; closing the connection ends any
     * such send, and an unanswered ping closes it after the NOP timeout.
     */
    private void sendAside(String what, IoAction send) {
        Thread.ofVirtual().name("ostia-target-send").start(() -> {
            try {
                send.run();
            } catch (IOException e) {
                LOG.log(Level.DEBUG, describe() + ": " + what + " could not be sent: " + e);
                transport.close();
            }
        });
    }

    @FunctionalInterface
    private interface IoAction {
        void run() throws IOException;
    }

    /** Asks the initiator to log out within {@code seconds} (async event 1, RFC 7143 §11.9.1). */
    void requestLogout(int seconds) {
        if (phase != Phase.FULL_FEATURE) {
            return;
        }
        sendAside("logout request", () -> sendNumbered(sn -> new AsyncMessage(0, sn, expCmdSN(), maxCmdSN(),
                AsyncMessage.Event.LOGOUT_REQUESTED, 0, 0, 0, seconds, Pdu.NO_DATA), false));
    }

    /**
     * Tells the initiator that the target drops this connection ({@code CONNECTION_DROPPED}) or
     * every connection of its session ({@code SESSION_DROPPED}), with the Time2Wait and
     * Time2Retain it must honour before it reconnects (RFC 7143 §11.9.1), then closes it.
     */
    void drop(AsyncMessage.Event event, int time2Wait, int time2Retain) {
        if (phase != Phase.FULL_FEATURE) {
            return;
        }
        sendAside("drop", () -> {
            try {
                sendNumbered(sn -> new AsyncMessage(0, sn, expCmdSN(), maxCmdSN(), event, 0, connectionId, time2Wait,
                        time2Retain, Pdu.NO_DATA), false);
                transport.flush();
            } finally {
                transport.close();
            }
        });
    }

    /** Closes the connection (server shutdown, session reinstatement). */
    void shutdown() {
        transport.close();
    }
}
