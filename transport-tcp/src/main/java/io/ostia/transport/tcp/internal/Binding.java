package io.ostia.transport.tcp.internal;

import io.ostia.api.TransportException;
import io.ostia.api.pdu.Opcode;
import io.ostia.api.pdu.Pdu;
import io.ostia.api.spi.ConnectionOwner;
import io.ostia.api.spi.StopMode;
import io.ostia.api.spi.TransportEndpoint;
import io.ostia.api.spi.TransportTask;
import io.ostia.api.text.NegotiatedParameters;
import io.ostia.transport.lifecycle.ConnectionBinding;
import io.ostia.transport.tcp.TcpTransportOptions;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One bind of a connection to a {@link TcpEndpoint}, from attach to retire: the sender, the
 * {@link Receiver} (receive thread and decoder), the {@link DataMover} (task table and data
 * movement) and the bind's parameters. Retired whole by stop; the connection's states are the
 * shared lifecycle's.
 *
 * <p>The receive thread is the only one that calls the owner, one call at a time, and each
 * owner call is the last thing done for a PDU, so a stop made from inside a callback leaves
 * nothing half done. Failures from any thread are recorded once ({@link #fail}); the receive
 * thread reports the first one to the owner, once, unless the owner itself disconnected or
 * stopped.
 */
final class Binding implements ConnectionBinding {

    private static final System.Logger LOG = System.getLogger(Binding.class.getName());

    final TcpEndpoint endpoint;
    private final ConnectionOwner owner;
    private final TcpTransportOptions options;
    private final String peer;
    private final ParameterHandoff parameters = new ParameterHandoff();
    private final DataMover mover;
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private volatile boolean stopping;
    /** Set once by open, before the receive thread starts. */
    private PduSender sender;
    /** Set once by open; volatile for a disconnect's wake-up from another thread. */
    private volatile Receiver receiver;

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
        this.peer = TcpEndpoint.describe(endpoint.remoteAddress());
        this.mover = new DataMover(this, options, peer);
    }

    /** Opens the selectors and makes the receive thread; the thread starts once this returns. */
    private void open() throws IOException {
        sender = new PduSender(endpoint.channel(), options.progressTimeout().toNanos(), peer);
        receiver = new Receiver(this, mover, sender, parameters, owner, endpoint, options, peer);
        sender.batchFrom(receiver.thread());
    }

    /** Releases the selectors of a binding whose receive thread never started. */
    private void abandon(Throwable why) {
        if (receiver != null) {
            receiver.closeSelector();
        }
        if (sender != null) {
            try {
                sender.close();
            } catch (IOException e) {
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
        Receiver current = receiver;
        return current != null && current.isThread();
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

    boolean isStopping() {
        return stopping;
    }

    ConnectionOwner owner() {
        return owner;
    }

    /** The first failure recorded, or null. */
    Throwable failure() {
        return failure.get();
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

    // ------------------------------------------------------------------ sends and owner calls

    @Override
    public void sendPdu(Pdu pdu) throws TransportException {
        send(pdu);
    }

    @Override
    public void sendTask(TransportTask task) throws TransportException {
        mover.sendTask(task, parameters.current());
    }

    @Override
    public void cleanupTask(TransportTask task) {
        mover.cleanupTask(task);
    }

    /** Sends one PDU; a failure to send fails the connection, unless it is stopping anyway. */
    void send(Pdu pdu) throws TransportException {
        if (!healthy()) {
            requireHealthy("send a " + pdu.opcode() + " PDU"); // throws, saying why
        }
        try {
            sender.send(pdu);
        } catch (IOException | RuntimeException e) {
            throw sendFailed(pdu.opcode(), e);
        }
    }

    /** Sends one Data-Out from a view of the task buffer; see {@link PduSender#sendDataOut}. */
    void sendDataOut(boolean finalFlag, long lun, int initiatorTaskTag, int targetTransferTag, int expStatSN,
            int dataSN, int bufferOffset, ByteBuffer data) throws TransportException {
        if (!healthy()) {
            requireHealthy("send a " + Opcode.DATA_OUT + " PDU"); // throws, saying why
        }
        try {
            sender.sendDataOut(finalFlag, lun, initiatorTaskTag, targetTransferTag, expStatSN, dataSN, bufferOffset,
                    data);
        } catch (IOException | RuntimeException e) {
            throw sendFailed(Opcode.DATA_OUT, e);
        }
    }

    private TransportException sendFailed(Opcode opcode, Exception e) {
        TransportException failed = new TransportException("sending a " + opcode + " PDU to " + peer
                + " failed: " + TcpEndpoint.reason(e), e);
        if (stopping || endpoint.disconnectRequested()) {
            return new TransportException("cannot send a " + opcode + " PDU to " + peer
                    + ": the connection is stopping or disconnected", e);
        }
        fail(failed);
        return failed;
    }

    /** A PDU for the owner, from the receive thread, unless stop began. */
    void deliver(Pdu pdu) {
        if (!stopping) {
            owner.pduReceived(pdu);
        }
    }

    /** ExpCmdSN and MaxCmdSN of a PDU the transport consumed, from the receive thread, unless stop began. */
    void windowUpdate(int expCmdSN, int maxCmdSN) {
        if (!stopping) {
            owner.commandWindowUpdate(expCmdSN, maxCmdSN);
        }
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
        receiver.wake();
        receiver.awaitEnd();
        mover.finishAll();
        try {
            sender.close();
        } catch (IOException e) {
            LOG.log(Level.WARNING, "closing the send selector of the connection to " + peer + " failed", e);
        }
        if (receiver.isThread()) {
            // The receive thread closes its selector on its way out, after this callback.
            LOG.log(Level.DEBUG, () -> "connection to " + peer + " stopped from its own receive thread");
        }
        endpoint.detach(this);
    }

    /** Force-release: the failure goes to the owner from the receive thread, which then ends. */
    @Override
    public void failAndAwaitReport(TransportException cause) {
        fail(cause);
        receiver.awaitEnd();
    }

    /** Wakes the receive thread (a disconnect, a failure); before open there is none to wake. */
    void wakeReceiver() {
        Receiver current = receiver;
        if (current != null) {
            current.wake();
        }
    }
}
