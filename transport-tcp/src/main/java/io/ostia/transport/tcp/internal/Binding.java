package io.ostia.transport.tcp.internal;

import io.ostia.api.ProtocolException;
import io.ostia.api.TransportException;
import io.ostia.api.pdu.DataIn;
import io.ostia.api.pdu.DataOut;
import io.ostia.api.pdu.DataPlacement;
import io.ostia.api.pdu.LoginResponse;
import io.ostia.api.pdu.LogoutResponse;
import io.ostia.api.pdu.Pdu;
import io.ostia.api.pdu.PduDecoder;
import io.ostia.api.pdu.PduFormatException;
import io.ostia.api.pdu.ReadyToTransfer;
import io.ostia.api.pdu.ScsiCommand;
import io.ostia.api.pdu.ScsiResponse;
import io.ostia.api.pdu.Side;
import io.ostia.api.pdu.TaskTagTable;
import io.ostia.api.spi.ConnectionOwner;
import io.ostia.api.spi.StopMode;
import io.ostia.api.spi.TransportEndpoint;
import io.ostia.api.spi.TransportTask;
import io.ostia.api.text.NegotiatedParameters;
import io.ostia.transport.lifecycle.ConnectionBinding;
import io.ostia.transport.tcp.TcpTransportOptions;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One bind of a connection to a {@link TcpEndpoint}: the receive thread with its decoder, the
 * sender, the task table keyed by initiator task tag and the bind's parameters. Retired whole
 * by stop; the connection's states are the shared lifecycle's.
 *
 * <p>The receive thread is the only one that calls the owner, one call at a time, and each
 * owner call is the last thing done for a PDU, so a stop made from inside a callback leaves
 * nothing half done. Failures from any thread are recorded once ({@link #fail}); the receive
 * thread reports the first one to the owner, once, unless the owner itself disconnected or
 * stopped.
 */
final class Binding implements ConnectionBinding {

    private static final System.Logger LOG = System.getLogger(Binding.class.getName());
    /** A Data-Out with this TargetTransferTag is unsolicited (RFC 7143 §11.7.4). */
    private static final int UNSOLICITED_TTT = 0xffffffff;
    /** The read-ahead buffer: a burst of small PDUs (a dozen and more 4 KiB Data-Ins with status). */
    private static final int STAGING = 64 * 1024;
    /** Data segments at least this long are read into their destination directly. */
    private static final int DIRECT_READ = 8 * 1024;
    /**
     * Reads retried before sleeping in the selector while one or two commands await their
     * response (at higher depths answers come in bursts and polling would take the CPU the
     * target needs): at most about a hundred microseconds. Whether to poll at all is measured
     * as the connection runs, see {@link ReadPolling}; {@code -Dostia.tcp.spinReads=0} turns
     * polling off.
     */
    private static final int SPIN_READS = Integer.getInteger("ostia.tcp.spinReads", 200);
    private static final int SPIN_MAX_IN_FLIGHT = 2;
    private static final long POLLING_PERIOD_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
    private static final int POLLING_KEPT_PERIODS = 20;
    /** Receive thread only. */
    private final ReadPolling polling = new ReadPolling(SPIN_READS, POLLING_PERIOD_NANOS, POLLING_KEPT_PERIODS,
            System.nanoTime());
    private int idleReads;

    final TcpEndpoint endpoint;
    private PduSender sender;
    private volatile boolean stopping;

    private final ConnectionOwner owner;
    private final ParameterHandoff parameters = new ParameterHandoff();
    private final TcpTransportOptions options;
    private final SocketChannel channel;
    private final String peer;
    private final PduDecoder decoder;
    /** Set once by open, before the receive thread starts; volatile for a disconnect's wake-up from another thread. */
    private volatile Selector readable;
    private Thread receiver;
    private final TaskTagTable<TaskState> tasks = new TaskTagTable<>(64);
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final AtomicBoolean failureReported = new AtomicBoolean();
    /** A Logout Response went by: the target closes the connection next, which is no failure. */
    private volatile boolean loggedOut;
    /**
     * Bytes read ahead of the decoder. Headers and small data segments come through here, so
     * that one read returns a whole small PDU (or several) instead of one read per part; a
     * data segment of {@link #DIRECT_READ} bytes or more is read straight into its
     * destination, so bulk Data-In is never copied. Empty (position = limit) between reads.
     */
    private final ByteBuffer staged = ByteBuffer.allocateDirect(STAGING).limit(0);

    /**
     * Whether the last PDU carried a large data segment. The next one likely does too (a
     * sequential read), so its header is read alone rather than staged: staging would pull
     * most of the data segment in as well and copy it a second time. Receive thread only.
     */
    private boolean lastSegmentLarge;
    /** The last read took less than it had room for: the socket was empty after it. Receive thread only. */
    private boolean socketDrained;
    /** The task whose Data-In segment the decoder is reading now; its lock is held. Receive thread only. */
    private TaskState placing;
    /** Whether the login switch point has passed: from then on limit changes reach the decoder. */
    private boolean fullFeature;
    private TcpParameters decoderParameters = TcpParameters.LOGIN;

    /**
     * Binds {@code owner}'s connection to {@code endpoint}: attaches to it (only an endpoint of
     * {@code transport} that is up and carries none), opens the selectors and starts the
     * receive thread. On failure nothing stays attached.
     */
    static Binding bind(TcpTransport transport, ConnectionOwner owner, TransportEndpoint endpoint,
            TcpTransportOptions options) throws TransportException {
        if (!(endpoint instanceof TcpEndpoint tcp)) {
            throw new TransportException("cannot bind a TCP connection to " + (endpoint == null ? "null"
                    : "an endpoint of another transport (" + endpoint.getClass().getName() + ")"));
        }
        if (tcp.transport() != transport) {
            throw new TransportException("cannot bind to the endpoint " + tcp
                    + ": it belongs to another instance of the TCP transport");
        }
        Binding fresh = new Binding(owner, tcp, options);
        tcp.attach(fresh);
        try {
            fresh.open();
            fresh.receiver.start();
        } catch (IOException | RuntimeException | OutOfMemoryError e) {
            // OutOfMemoryError included: it is what a refused thread start throws.
            fresh.abandon(e);
            tcp.cancelAttach(fresh);
            throw new TransportException("cannot bind to " + tcp + ": " + TcpEndpoint.reason(e), e);
        }
        return fresh;
    }

    private Binding(ConnectionOwner owner, TcpEndpoint endpoint, TcpTransportOptions options) {
        this.owner = owner;
        this.endpoint = endpoint;
        this.options = options;
        this.channel = endpoint.channel();
        this.peer = TcpEndpoint.describe(endpoint.remoteAddress());
        this.decoder = new PduDecoder(Side.INITIATOR, TcpParameters.LOGIN.maxRecvDataSegmentLength());
        this.decoder.setDataPlacement(this::placeData);
    }

    /** Opens the selectors and makes the receive thread; the thread starts once this returns. */
    private void open() throws IOException {
        Selector selector = Selector.open();
        PduSender created = null;
        try {
            channel.register(selector, SelectionKey.OP_READ);
            created = new PduSender(channel, options.progressTimeout().toNanos(), peer);
        } catch (IOException | RuntimeException e) {
            try {
                selector.close();
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        this.readable = selector;
        this.sender = created;
        this.receiver = Thread.ofPlatform().daemon(true).name("ostia-tcp-rx-" + peer).unstarted(this::receive);
        this.sender.batchFrom(receiver);
    }

    /** Releases the selectors of a binding whose receive thread never started. */
    private void abandon(Throwable why) {
        for (AutoCloseable closeable : new AutoCloseable[] {readable, sender}) {
            if (closeable == null) {
                continue;
            }
            try {
                closeable.close();
            } catch (Exception e) {
                why.addSuppressed(e);
            }
        }
    }

    @Override
    public TransportEndpoint endpoint() {
        return endpoint;
    }

    @Override
    public boolean isCallbackThread() {
        return Thread.currentThread() == receiver;
    }

    @Override
    public void setParameters(NegotiatedParameters negotiated) {
        TcpParameters values = ParameterMapping.of(negotiated);
        // Digests apply to the sender from its next PDU; the decoder switches between PDUs.
        sender.setDigests(values.headerDigest(), values.dataDigest());
        parameters.negotiated(values);
    }

    @Override
    public void started() {
        parameters.started();
    }

    @Override
    public void stopRequested() {
        stopping = true;
        parameters.stopped();
    }

    /** Neither failed nor disconnected; the check every send makes before it says why not. */
    private boolean healthy() {
        return failure.get() == null && endpoint.isUp();
    }

    @Override
    public void requireHealthy(String what) throws TransportException {
        Throwable cause = failure.get();
        if (cause != null) {
            throw new TransportException("cannot " + what + ": the connection to " + peer + " failed: "
                    + cause.getMessage(), cause);
        }
        if (!endpoint.isUp()) {
            throw new TransportException("cannot " + what + ": the endpoint " + endpoint + " is disconnected");
        }
    }

    /** Records the first failure and closes the socket, which wakes the receive thread to report it. */
    void fail(Throwable cause) {
        if (failure.compareAndSet(null, cause)) {
            LOG.log(Level.DEBUG, () -> "connection to " + peer + " failed: " + cause.getMessage());
            endpoint.abort();
            wakeReceiver();
        }
    }

    // ------------------------------------------------------------------ send path

    @Override
    public void sendPdu(Pdu pdu) throws TransportException {
        send(pdu);
    }

    private void send(Pdu pdu) throws TransportException {
        if (!healthy()) {
            requireHealthy("send a " + pdu.opcode() + " PDU"); // throws, saying why
        }
        try {
            sender.send(pdu);
        } catch (IOException | RuntimeException e) {
            throw sendFailed(pdu, e);
        }
    }

    private TransportException sendFailed(Pdu pdu, Exception e) {
        TransportException failed = new TransportException("sending a " + pdu.opcode() + " PDU to " + peer
                + " failed: " + TcpEndpoint.reason(e), e);
        if (stopping || endpoint.disconnectRequested()) {
            return new TransportException("cannot send a " + pdu.opcode() + " PDU to " + peer
                    + ": the connection is stopping or disconnected", e);
        }
        fail(failed);
        return failed;
    }

    /**
     * Sends a command with what unsolicited data the parameters allow: immediate data up to
     * min(FirstBurstLength, the target's MaxRecvDataSegmentLength); with InitialR2T=No also
     * Data-Out PDUs (TargetTransferTag 0xffffffff) up to FirstBurstLength in all.
     */
    @Override
    public void sendTask(TransportTask task) throws TransportException {
        TcpParameters parameters = this.parameters.current();
        ScsiCommand command = task.command();
        MemorySegment buffer = task.buffer();
        TaskState.checkTask(command, buffer);
        long length = buffer.byteSize();
        long immediate = 0;
        long unsolicited = 0;
        if (command.write() && length > 0) {
            if (parameters.immediateData()) {
                immediate = Math.min(length, Math.min(parameters.firstBurstLength(),
                        parameters.targetMaxRecvDataSegmentLength()));
            }
            unsolicited = parameters.initialR2T() ? immediate : Math.min(length, parameters.firstBurstLength());
        }
        boolean dataOutFollows = unsolicited > immediate;
        ScsiCommand wire = command.withImmediateData(TaskState.slice(buffer, 0, immediate), !dataOutFollows);
        TaskState state = new TaskState(task, wire);
        TaskState previous = tasks.putIfAbsent(state.itt(), state);
        if (previous != null) {
            throw new TransportException("task tag " + TaskState.hex(state.itt()) + " is already in flight on the "
                    + "connection to " + peer);
        }
        // The task holds its own lock while its data goes out, so a response or cleanup that
        // comes meanwhile waits until the buffer is no longer read; a read sends none.
        boolean dataLeaves = immediate > 0 || dataOutFollows;
        if (dataLeaves) {
            state.lock.lock();
        }
        try {
            try {
                send(wire);
            } catch (TransportException e) {
                tasks.remove(state.itt(), state);
                throw e;
            }
            if (dataOutFollows) {
                sendDataOut(state, UNSOLICITED_TTT, immediate, unsolicited - immediate, command.expStatSN(),
                        parameters);
            }
        } finally {
            if (dataLeaves) {
                state.lock.unlock();
            }
        }
    }

    /**
     * One sequence of Data-Out PDUs: at most the target's MaxRecvDataSegmentLength each, DataSN
     * from 0, F on the last. The caller holds the task's lock.
     */
    private void sendDataOut(TaskState state, int targetTransferTag, long offset, long length, int expStatSN,
            TcpParameters parameters) throws TransportException {
        long end = offset + length;
        int dataSN = 0;
        for (long at = offset; at < end; at += parameters.targetMaxRecvDataSegmentLength()) {
            long chunk = Math.min(parameters.targetMaxRecvDataSegmentLength(), end - at);
            send(new DataOut(at + chunk == end, state.command.lun(), state.itt(), targetTransferTag, expStatSN,
                    dataSN++, (int) at, state.buffer.asSlice(at, chunk)));
        }
    }

    @Override
    public void cleanupTask(TransportTask task) {
        int itt = task.command().initiatorTaskTag();
        TaskState state = tasks.get(itt);
        if (state == null || state.task != task || !tasks.remove(itt, state)) {
            return;
        }
        finish(state, "cleanup");
    }

    /**
     * Waits until nobody touches the task's buffer. A placement or send stalled for longer than
     * the progress timeout fails the connection, which ends it, and is waited for once more.
     */
    private void finish(TaskState state, String why) {
        long timeout = options.progressTimeout().toNanos();
        try {
            if (state.finishWithin(timeout)) {
                return;
            }
            fail(new TransportException("the data of task " + TaskState.hex(state.itt()) + " on the connection to "
                    + peer + " was still moving " + options.progressTimeout().toMillis() + " ms after its " + why
                    + " (the transport's progress timeout)"));
            if (!state.finishWithin(timeout)) {
                LOG.log(Level.ERROR, "task " + TaskState.hex(state.itt()) + " on the connection to " + peer
                        + " is still in use by a stuck thread after its " + why + "; its buffer may still be touched");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            LOG.log(Level.ERROR, "interrupted while finishing task " + TaskState.hex(state.itt()) + " after its "
                    + why + "; its buffer may still be touched", e);
        }
    }

    // ------------------------------------------------------------------ receive path

    private void receive() {
        Throwable ended = null;
        try {
            while (!stopping) {
                ByteBuffer target = decoder.readTarget();
                if (!staged.hasRemaining()) {
                    flushBatch();
                    if (socketDrained && (polling.pollsPerWait() == 0 || !awaitingFewResponses())) {
                        // The last read emptied the socket, and the next answer rarely comes
                        // while one read's worth is handled: unless polling for it, wait for it
                        // rather than make a read that finds nothing.
                        socketDrained = false;
                        readable.select();
                        readable.selectedKeys().clear();
                    }
                    int count = target.remaining() >= DIRECT_READ || lastSegmentLarge ? readDirect(target) : stage();
                    if (count < 0) {
                        throw new TransportException("the target " + peer + " closed the connection");
                    }
                    if (count == 0) {
                        if (idleReads < polling.pollsPerWait() && awaitingFewResponses()) {
                            idleReads++;
                            Thread.onSpinWait();
                            continue;
                        }
                        idleReads = 0;
                        readable.select();
                        readable.selectedKeys().clear();
                        continue;
                    }
                    idleReads = 0;
                }
                if (staged.hasRemaining()) {
                    int count = Math.min(staged.remaining(), target.remaining());
                    target.put(staged.slice(staged.position(), count));
                    staged.position(staged.position() + count);
                }
                if (target.hasRemaining()) {
                    continue;
                }
                Pdu pdu;
                try {
                    pdu = decoder.advance();
                } catch (PlacementRefused refused) {
                    throw refused.problem;
                }
                if (pdu != null) {
                    polling.handled(System.nanoTime());
                    lastSegmentLarge = pdu.dataSegmentLength() >= DIRECT_READ;
                    handle(pdu);
                }
            }
        } catch (Throwable e) {
            ended = e;
        } finally {
            releasePlacing();
            closeSelector();
        }
        finishReceiving(ended);
    }

    /**
     * Before reading again, sends what this thread batched while it handled what it read last
     * (the commands reissued from their predecessors' completions).
     */
    private void flushBatch() throws TransportException {
        try {
            sender.flush();
        } catch (IOException | RuntimeException e) {
            TransportException failed = new TransportException("sending batched commands to " + peer + " failed: "
                    + TcpEndpoint.reason(e), e);
            fail(failed);
            throw failed;
        }
    }

    /** Reads straight into the decoder's target (a large data segment, or a header after one). */
    private int readDirect(ByteBuffer target) throws IOException {
        int wanted = target.remaining();
        int count = channel.read(target);
        socketDrained = count > 0 && count < wanted;
        return count;
    }

    /** Reads what the socket has into the staging buffer, which is empty. */
    private int stage() throws IOException {
        staged.clear();
        int count = channel.read(staged);
        staged.flip();
        socketDrained = count > 0 && count < staged.capacity();
        return count;
    }

    private boolean awaitingFewResponses() {
        int inFlight = tasks.size();
        return inFlight > 0 && inFlight <= SPIN_MAX_IN_FLIGHT;
    }

    private void finishReceiving(Throwable ended) {
        boolean quiet = stopping || endpoint.disconnectRequested() || loggedOut;
        if (ended != null && !quiet) {
            fail(describe(ended));
        }
        Throwable cause = failure.get();
        if (cause != null && !quiet && failureReported.compareAndSet(false, true)) {
            LOG.log(Level.INFO, () -> "connection to " + peer + " failed: " + cause.getMessage());
            try {
                owner.connectionFailed(cause);
            } catch (RuntimeException e) {
                LOG.log(Level.ERROR, "the owner of the connection to " + peer + " threw from connectionFailed", e);
            }
        } else if (ended != null) {
            LOG.log(Level.DEBUG, () -> "receive thread for " + peer + " ended after stop or disconnect: " + ended);
        }
        if (ended instanceof Error error) {
            throw error;
        }
    }

    /** Turns what ended the receive loop into the cause the owner sees, naming the peer. */
    private Throwable describe(Throwable ended) {
        return switch (ended) {
            case TransportException e -> e;
            case PduFormatException e -> new ProtocolException(e.field(), "malformed PDU from " + peer + ": "
                    + e.getMessage(), e);
            case ProtocolException e -> e;
            case ClosedChannelException e -> failure.get() != null ? failure.get()
                    : new TransportException("the connection to " + peer + " was closed", e);
            case ClosedSelectorException e -> failure.get() != null ? failure.get()
                    : new TransportException("the connection to " + peer + " was closed", e);
            case IOException e -> new TransportException("the connection to " + peer + " failed: "
                    + TcpEndpoint.reason(e), e);
            default -> {
                LOG.log(Level.ERROR, "the receive path of the connection to " + peer + " failed", ended);
                yield new TransportException("the receive path of the connection to " + peer + " failed: " + ended,
                        ended);
            }
        };
    }

    private void handle(Pdu pdu) throws TransportException, ProtocolException, InterruptedException {
        if (fullFeature) {
            applyLimits();
        }
        switch (pdu) {
            case DataIn dataIn -> dataInReceived(dataIn);
            case ReadyToTransfer r2t -> r2tReceived(r2t);
            case ScsiResponse response -> {
                TaskState state = tasks.remove(response.initiatorTaskTag());
                if (state != null) {
                    finish(state, "SCSI Response");
                }
                deliver(response);
            }
            case LogoutResponse response -> {
                loggedOut = true;
                deliver(response);
            }
            case LoginResponse response -> {
                deliver(response);
                if (isFinalLoginResponse(response)) {
                    switchToFullFeature();
                }
            }
            default -> deliver(pdu);
        }
    }

    private void deliver(Pdu pdu) {
        if (!stopping) {
            owner.pduReceived(pdu);
        }
    }

    private void windowUpdate(int expCmdSN, int maxCmdSN) {
        if (!stopping) {
            owner.commandWindowUpdate(expCmdSN, maxCmdSN);
        }
    }

    /**
     * RFC 7143 §13.1: digests start with the first PDU after the final Login Response. Wait
     * for the session's parameters here, between PDUs, so the decoder switches exactly there.
     */
    private void switchToFullFeature() throws TransportException, InterruptedException {
        TcpParameters values = parameters.awaitAfterLogin(options.progressTimeout().toNanos(), endpoint.toString());
        if (stopping) {
            return;
        }
        decoder.setHeaderDigest(values.headerDigest());
        decoder.setDataDigest(values.dataDigest());
        decoder.setMaxRecvDataSegmentLength(values.maxRecvDataSegmentLength());
        decoderParameters = values;
        fullFeature = true;
    }

    /** A later setParameters (a renegotiated MaxRecvDataSegmentLength) reaches the decoder between PDUs. */
    private void applyLimits() {
        TcpParameters current = parameters.current();
        if (current != decoderParameters) {
            decoder.setMaxRecvDataSegmentLength(current.maxRecvDataSegmentLength());
            decoderParameters = current;
        }
    }

    /**
     * The decoder asks where a data segment goes. A Data-In of a known task lands straight in
     * the task buffer at its BufferOffset, after the checks; the task's lock is held until the
     * segment is complete. Everything else (login text, sense data, a Data-In of a task cleaned
     * up meanwhile) goes to a segment the decoder allocates.
     */
    private MemorySegment placeData(Pdu header, int dataSegmentLength) {
        if (!(header instanceof DataIn dataIn)) {
            return null;
        }
        TaskState state = tasks.get(dataIn.initiatorTaskTag());
        if (state == null) {
            return null;
        }
        state.lock.lock();
        boolean placed = false;
        try {
            if (state.finished()) {
                return null;
            }
            state.acceptDataIn(dataIn, dataSegmentLength, peer);
            placing = state;
            placed = true;
            return state.buffer.asSlice(Integer.toUnsignedLong(dataIn.bufferOffset()), dataSegmentLength);
        } catch (ProtocolException e) {
            throw new PlacementRefused(e);
        } finally {
            if (!placed) {
                state.lock.unlock();
            }
        }
    }

    private void releasePlacing() {
        if (placing != null) {
            placing.lock.unlock();
            placing = null;
        }
    }

    private void dataInReceived(DataIn dataIn) throws ProtocolException {
        TaskState state = placing;
        if (state != null) {
            releasePlacing();
        } else if (dataIn.dataSegmentLength() == 0) {
            state = acceptEmptyDataIn(dataIn);
        }
        if (!dataIn.statusPresent()) {
            if (state == null) {
                LOG.log(Level.DEBUG, () -> "Data-In from " + peer + " for task " + TaskState.hex(
                        dataIn.initiatorTaskTag()) + ", which is not in flight here: its data is dropped");
            }
            windowUpdate(dataIn.expCmdSN(), dataIn.maxCmdSN());
            return;
        }
        TaskState done = tasks.remove(dataIn.initiatorTaskTag());
        if (done != null) {
            finish(done, "status in a Data-In");
        }
        deliver(dataIn);
    }

    /** A Data-In without data gets the same DataSN check; no placement was asked for it. */
    private TaskState acceptEmptyDataIn(DataIn dataIn) throws ProtocolException {
        TaskState state = tasks.get(dataIn.initiatorTaskTag());
        if (state == null) {
            return null;
        }
        state.lock.lock();
        try {
            if (state.finished()) {
                return null;
            }
            state.acceptDataIn(dataIn, 0, peer);
            return state;
        } finally {
            state.lock.unlock();
        }
    }

    /**
     * Answers an R2T at once from this thread, so a connection has one R2T in progress at a
     * time, within any MaxOutstandingR2T (at least 1), and R2Ts are answered in the order sent.
     */
    private void r2tReceived(ReadyToTransfer r2t) throws TransportException, ProtocolException {
        TaskState state = tasks.get(r2t.initiatorTaskTag());
        if (state == null) {
            LOG.log(Level.DEBUG, () -> "R2T from " + peer + " for task " + TaskState.hex(r2t.initiatorTaskTag())
                    + ", which is not in flight here: ignored");
        } else {
            TcpParameters current = parameters.current();
            state.acceptR2T(r2t, current, peer);
            int expStatSN = owner.expectedStatSN();
            state.lock.lock();
            try {
                if (!state.finished()) {
                    sendDataOut(state, r2t.targetTransferTag(), Integer.toUnsignedLong(r2t.bufferOffset()),
                            Integer.toUnsignedLong(r2t.desiredDataTransferLength()), expStatSN, current);
                }
            } finally {
                state.lock.unlock();
            }
        }
        windowUpdate(r2t.expCmdSN(), r2t.maxCmdSN());
    }

    // ------------------------------------------------------------------ stop

    /**
     * Stop: closes the socket (Linux's TCP stop_conn releases it in every mode), ends the
     * receive thread, forgets every task once nobody touches its buffer, and detaches from the
     * endpoint, which completes a release queued by an earlier disconnect.
     */
    @Override
    public void retire(StopMode mode) {
        endpoint.abort();
        wakeReceiver();
        if (!isCallbackThread()) {
            awaitReceiveThread();
        }
        for (TaskState state : tasks.removeAll()) {
            finish(state, "connection stop");
        }
        try {
            sender.close();
        } catch (IOException e) {
            LOG.log(Level.WARNING, "closing the send selector of the connection to " + peer + " failed", e);
        }
        if (isCallbackThread()) {
            // The receive thread closes its selector on its way out, after this callback.
            LOG.log(Level.DEBUG, () -> "connection to " + peer + " stopped from its own receive thread");
        }
        endpoint.detach(this);
    }

    /** Force-release: the failure goes to the owner from the receive thread, which then ends. */
    @Override
    public void failAndAwaitReport(TransportException cause) {
        fail(cause);
        awaitReceiveThread();
    }

    private void awaitReceiveThread() {
        if (isCallbackThread()) {
            return;
        }
        try {
            receiver.join(options.releaseTimeout());
            if (receiver.isAlive()) {
                LOG.log(Level.ERROR, "the receive thread " + receiver.getName() + " did not end within "
                        + options.releaseTimeout().toMillis() + " ms of stopping (an owner callback blocks?); "
                        + "it makes no further owner calls");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            LOG.log(Level.ERROR, "interrupted while waiting for " + receiver.getName() + " to end", e);
        }
    }

    /** Wakes the receive thread (a disconnect, a failure, a stop); before open there is none to wake. */
    void wakeReceiver() {
        Selector selector = readable;
        if (selector == null) {
            return;
        }
        try {
            selector.wakeup();
        } catch (ClosedSelectorException e) {
            LOG.log(Level.TRACE, "receive selector already closed", e);
        }
    }

    private void closeSelector() {
        try {
            readable.close();
        } catch (IOException e) {
            LOG.log(Level.WARNING, "closing the receive selector of the connection to " + peer + " failed", e);
        }
    }

    private static boolean isFinalLoginResponse(LoginResponse response) {
        return response.transit() && response.nextStage() == io.ostia.api.pdu.LoginStage.FULL_FEATURE_PHASE
                && response.statusClass() == 0;
    }

    /** Carries a refused placement out of the decoder, whose callback cannot throw checked exceptions. */
    private static final class PlacementRefused extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final transient ProtocolException problem;

        PlacementRefused(ProtocolException problem) {
            super(problem.getMessage(), problem, false, false);
            this.problem = problem;
        }
    }
}
