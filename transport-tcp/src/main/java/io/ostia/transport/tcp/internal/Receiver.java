package io.ostia.transport.tcp.internal;

import io.ostia.api.ProtocolException;
import io.ostia.api.TransportException;
import io.ostia.api.pdu.DataIn;
import io.ostia.api.pdu.LoginResponse;
import io.ostia.api.pdu.LogoutResponse;
import io.ostia.api.pdu.Pdu;
import io.ostia.api.pdu.Digests;
import io.ostia.api.pdu.PduDecoder;
import io.ostia.api.pdu.PduEncoder;
import io.ostia.api.pdu.PduFormatException;
import io.ostia.api.pdu.ReadyToTransfer;
import io.ostia.api.pdu.ScsiResponse;
import io.ostia.api.pdu.Side;
import io.ostia.api.spi.ConnectionOwner;
import io.ostia.transport.tcp.TcpTransportOptions;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * A bind's receive thread, {@code ostia-tcp-rx-<host:port>}: reads (staged, or straight into a
 * task buffer), decodes, hands data movement to the {@link DataMover} and makes every owner
 * call, one at a time, each the last thing done for its PDU. It switches the decoder to the
 * negotiated digests and limits exactly after the final Login Response, and reports the first
 * failure to the owner once, unless the owner itself stopped or disconnected.
 */
final class Receiver {

    private static final System.Logger LOG = System.getLogger(Receiver.class.getName());
    /** The read-ahead buffer: a burst of small PDUs (a dozen and more 4 KiB Data-Ins with status). */
    private static final int STAGING = 64 * 1024;
    /** Data segments at least this long are read into their destination directly. */
    private static final int DIRECT_READ = 8 * 1024;
    /**
     * Reads retried before sleeping in the selector while one or two commands await their
     * response (at higher depths answers come in bursts and polling would take the CPU the
     * target needs): at most about a hundred microseconds. Whether to poll at all, and how
     * long, is measured as the connection runs, see {@link ReadPolling};
     * {@code -Dostia.tcp.spinReads=0} turns polling off.
     */
    private static final int SPIN_READS = Integer.getInteger("ostia.tcp.spinReads", 200);
    private static final long POLLING_PERIOD_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
    private static final int POLLING_KEPT_PERIODS = 20;
    /** The machine's runnable threads, for {@link #polling}; receive thread only, closed as it ends. */
    private final RunQueue runQueue = new RunQueue();
    /** Receive thread only. */
    private final ReadPolling polling = new ReadPolling(SPIN_READS, POLLING_PERIOD_NANOS, POLLING_KEPT_PERIODS,
            System.nanoTime(), runQueue::othersRunnable, Runtime.getRuntime().availableProcessors());
    private int idleReads;
    /**
     * While the socket holds more, commands reissued from completions wait in the sender's
     * batch until one in this many of those in flight wait there; {@code 0} sends them before
     * every socket read. A knob to measure with ({@code -Dostia.tcp.batchShare}): on a loaded
     * machine 0 against 4 swung both ways for 64 KiB reads at depth 32 (issue 14), undecided.
     */
    private static final int BATCH_SHARE = Integer.getInteger("ostia.tcp.batchShare", 4);
    /** The one key is the socket's; being woken is all the receive loop needs of it. */
    private static final Consumer<SelectionKey> IGNORE_READY = key -> {
    };

    private final Binding binding;
    private final DataMover mover;
    private final PduSender sender;
    private final ParameterHandoff parameters;
    private final ConnectionOwner owner;
    private final TcpEndpoint endpoint;
    private final TcpTransportOptions options;
    private final SocketChannel channel;
    private final String peer;
    private final PduDecoder decoder;
    private final Selector readable;
    private final Thread thread;
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
    /** A data segment's destination and {@link #staged}, for {@link #readWithNextHeader}; receive thread only. */
    private final ByteBuffer[] scatter = new ByteBuffer[2];

    /**
     * Whether the last PDU carried a large data segment. The next one likely does too (a
     * sequential read), so its header is read alone rather than staged: staging would pull
     * most of the data segment in as well and copy it a second time. Receive thread only.
     */
    private boolean lastSegmentLarge;
    /** The last read took less than it had room for: the socket was empty after it. Receive thread only. */
    private boolean socketDrained;
    /** Whether the login switch point has passed: from then on limit changes reach the decoder. */
    private boolean fullFeature;
    private TcpParameters decoderParameters = TcpParameters.LOGIN;

    /** Opens the read selector and makes the thread, not started. */
    Receiver(Binding binding, DataMover mover, PduSender sender, ParameterHandoff parameters, ConnectionOwner owner,
            TcpEndpoint endpoint, TcpTransportOptions options, String peer) throws IOException {
        if (BATCH_SHARE < 0) {
            throw new IllegalArgumentException("-Dostia.tcp.batchShare must be 0 (no batching across reads) or more, not "
                    + BATCH_SHARE);
        }
        this.binding = binding;
        this.mover = mover;
        this.sender = sender;
        this.parameters = parameters;
        this.owner = owner;
        this.endpoint = endpoint;
        this.options = options;
        this.channel = endpoint.channel();
        this.peer = peer;
        this.decoder = new PduDecoder(Side.INITIATOR, TcpParameters.LOGIN.maxRecvDataSegmentLength());
        this.decoder.setDataInPlacement(mover::placeDataIn);
        Selector selector = Selector.open();
        try {
            channel.register(selector, SelectionKey.OP_READ);
        } catch (IOException | RuntimeException e) {
            try {
                selector.close();
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        this.readable = selector;
        this.thread = Thread.ofPlatform().daemon(true).name("ostia-tcp-rx-" + peer).unstarted(this::receive);
    }

    void start() {
        thread.start();
    }

    Thread thread() {
        return thread;
    }

    boolean isThread() {
        return Thread.currentThread() == thread;
    }

    private void receive() {
        Throwable ended = null;
        try {
            while (!binding.isStopping()) {
                receiveOnce();
            }
        } catch (Throwable e) {
            ended = e;
        } finally {
            mover.releasePlacing();
            runQueue.close();
            closeSelector();
        }
        finishReceiving(ended);
    }

    /**
     * One step of the receive loop: a read (or a wait), then what it completed. A method of its
     * own, called per step, so the JIT compiles it as a whole method: compiled on stack inside a
     * loop that never returns, the loop was deoptimised and recompiled every few seconds.
     */
    private void receiveOnce() throws Exception {
        ByteBuffer target = decoder.readTarget();
        if (!staged.hasRemaining()) {
            // While the socket holds more, commands reissued meanwhile gather in the sender's
            // batch (one write for several), until a share of those in flight wait there.
            flushBatch(socketDrained || BATCH_SHARE == 0 ? 1 : Math.max(1, mover.inFlight() / BATCH_SHARE));
            if (socketDrained && (polling.pollsPerWait() == 0 || !mover.awaitingFewResponses())) {
                // The last read emptied the socket, and the next answer rarely comes
                // while one read's worth is handled: unless polling for it, wait for it
                // rather than make a read that finds nothing.
                socketDrained = false;
                polling.slept();
                awaitReadable();
            }
            int count = target.remaining() >= DIRECT_READ ? readWithNextHeader(target)
                    : lastSegmentLarge ? readDirect(target) : stage();
            if (count < 0) {
                throw new TransportException("the target " + peer + " closed the connection");
            }
            if (count == 0) {
                flushBatch(1);
                if (idleReads < polling.pollsPerWait() && mover.awaitingFewResponses()) {
                    idleReads++;
                    Thread.onSpinWait();
                    return;
                }
                if (idleReads > 0) {
                    polling.spinMissed();
                }
                idleReads = 0;
                polling.slept();
                awaitReadable();
                return;
            }
            if (idleReads > 0) {
                polling.spinHit(idleReads);
                idleReads = 0;
            }
        }
        if (staged.hasRemaining()) {
            int count = Math.min(staged.remaining(), target.remaining());
            target.put(target.position(), staged, staged.position(), count);
            target.position(target.position() + count);
            staged.position(staged.position() + count);
        }
        if (target.hasRemaining()) {
            return;
        }
        Pdu pdu;
        try {
            pdu = decoder.advance();
        } catch (DataMover.PlacementRefused refused) {
            throw refused.problem;
        }
        if (pdu != null) {
            polling.handled(System.nanoTime());
            lastSegmentLarge = pdu.dataSegmentLength() >= DIRECT_READ;
            handle(pdu);
        }
    }

    /**
     * Sleeps in the selector until the socket is readable (or {@link #wake}). The ready key goes
     * to a no-op action, not into the selected-key set: the set would make a node per wake-up,
     * which at depth 1 is one per I/O.
     */
    private void awaitReadable() throws IOException {
        readable.select(IGNORE_READY);
    }

    /**
     * Sends what this thread batched while it handled what it read (the commands reissued from
     * their predecessors' completions), if at least {@code atLeast} PDUs wait.
     */
    private void flushBatch(int atLeast) throws TransportException {
        try {
            sender.flushIfBatched(atLeast);
        } catch (IOException | RuntimeException e) {
            TransportException failed = new TransportException("sending batched commands to " + peer + " failed: "
                    + TcpEndpoint.reason(e), e);
            binding.fail(failed);
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

    /**
     * Reads a large data segment straight into its destination and, in the same system call,
     * what follows it up to the end of the next PDU's header (its trailer and BHS, with the
     * digests negotiated) into the staging buffer, which is empty: one read per Data-In instead
     * of one for the data and one for the next header, and nothing of the next data segment
     * staged and copied.
     */
    private int readWithNextHeader(ByteBuffer target) throws IOException {
        staged.clear().limit(PduEncoder.BHS_LENGTH + (decoderParameters.headerDigest() ? Digests.LENGTH : 0)
                + (decoderParameters.dataDigest() ? Digests.LENGTH : 0));
        scatter[0] = target;
        scatter[1] = staged;
        long wanted = target.remaining() + (long) staged.remaining();
        long count;
        try {
            count = channel.read(scatter);
        } finally {
            scatter[0] = null; // keep no task buffer reachable from here
            staged.flip();
        }
        socketDrained = count > 0 && count < wanted;
        return (int) count;
    }

    /** Reads what the socket has into the staging buffer, which is empty. */
    private int stage() throws IOException {
        staged.clear();
        int count = channel.read(staged);
        staged.flip();
        socketDrained = count > 0 && count < staged.capacity();
        return count;
    }

    private void finishReceiving(Throwable ended) {
        boolean quiet = binding.isStopping() || endpoint.disconnectRequested() || loggedOut;
        if (ended != null && !quiet) {
            binding.fail(describe(ended));
        }
        Throwable cause = binding.failure();
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
            case ClosedChannelException e -> binding.failure() != null ? binding.failure()
                    : new TransportException("the connection to " + peer + " was closed", e);
            case ClosedSelectorException e -> binding.failure() != null ? binding.failure()
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
            case DataIn dataIn -> mover.dataInReceived(dataIn);
            case ReadyToTransfer r2t -> mover.r2tReceived(r2t, parameters.current());
            case ScsiResponse response -> {
                mover.responseReceived(response.initiatorTaskTag());
                binding.deliver(response);
            }
            case LogoutResponse response -> {
                loggedOut = true;
                binding.deliver(response);
            }
            case LoginResponse response -> {
                binding.deliver(response);
                if (response.isFinal()) {
                    switchToFullFeature();
                }
            }
            default -> binding.deliver(pdu);
        }
    }

    /**
     * RFC 7143 §13.1: digests start with the first PDU after the final Login Response. Wait
     * for the session's parameters here, between PDUs, so the decoder switches exactly there.
     */
    private void switchToFullFeature() throws TransportException, InterruptedException {
        TcpParameters values = parameters.awaitAfterLogin(options.progressTimeout().toNanos(), endpoint.toString());
        if (binding.isStopping()) {
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

    /** Wakes the thread from its selector (a disconnect, a failure, a stop). */
    void wake() {
        try {
            readable.wakeup();
        } catch (ClosedSelectorException e) {
            LOG.log(Level.TRACE, "receive selector already closed", e);
        }
    }

    /** Waits (bounded by the release timeout) for the thread to end; from the thread itself, returns at once. */
    void awaitEnd() {
        if (isThread()) {
            return;
        }
        try {
            thread.join(options.releaseTimeout());
            if (thread.isAlive()) {
                LOG.log(Level.ERROR, "the receive thread " + thread.getName() + " did not end within "
                        + options.releaseTimeout().toMillis() + " ms of stopping (an owner callback blocks?); "
                        + "it makes no further owner calls");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            LOG.log(Level.ERROR, "interrupted while waiting for " + thread.getName() + " to end", e);
        }
    }

    /** Closes the read selector; the thread does it on its way out, and a bind that failed before the start. */
    void closeSelector() {
        try {
            readable.close();
        } catch (IOException e) {
            LOG.log(Level.WARNING, "closing the receive selector of the connection to " + peer + " failed", e);
        }
    }
}
