package io.ostia.initiator.internal;

import io.ostia.api.IscsiTimeoutException;
import io.ostia.api.TransportException;
import io.ostia.api.pdu.Pdu;
import io.ostia.api.pdu.ScsiResponseHolder;
import io.ostia.api.spi.ConnectionOwner;
import io.ostia.api.spi.IscsiTransport;
import io.ostia.api.spi.StopMode;
import io.ostia.api.spi.TransportConnection;
import io.ostia.api.spi.TransportEndpoint;
import io.ostia.api.text.TargetAddress;
import java.time.Duration;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The session layer's side of one transport connection: the {@link ConnectionOwner} a
 * transport calls back. During login it queues what arrives for the login exchange; in
 * full-feature phase it hands PDUs to the session. A connection the session has moved away
 * from keeps calling into nothing: every callback checks that it is still the session's.
 */
final class SessionConnection implements ConnectionOwner {

    /** Receives full-feature-phase events; implemented by the session. */
    interface Listener {
        void pduReceived(SessionConnection connection, Pdu pdu);

        /** A SCSI Response in the transport's holder, read during this call only. */
        void scsiResponseReceived(SessionConnection connection, ScsiResponseHolder response);

        void commandWindowUpdate(SessionConnection connection, int expCmdSN, int maxCmdSN);

        void connectionFailed(SessionConnection connection, Throwable cause);

        void transportLeaving(SessionConnection connection, IscsiTransport transport);
    }

    final IscsiTransport transport;
    final TransportEndpoint endpoint;
    private final TransportConnection connection;
    private final LinkedBlockingQueue<Object> loginInbox = new LinkedBlockingQueue<>();
    private final AtomicBoolean released = new AtomicBoolean();
    private volatile Listener listener;
    private volatile int expStatSN;
    private volatile boolean failedDuringLogin;

    private SessionConnection(IscsiTransport transport, TransportEndpoint endpoint, int queueDepth)
            throws TransportException {
        this.transport = transport;
        this.endpoint = endpoint;
        this.connection = transport.createConnection(this, queueDepth);
    }

    /**
     * Connects over {@code transport} and binds a new connection, sized for {@code queueDepth}
     * tasks in flight, to the endpoint, all within {@code timeout}. On failure nothing is left open.
     */
    static SessionConnection open(IscsiTransport transport, java.net.InetSocketAddress target, int queueDepth,
            Duration timeout) throws TransportException, IscsiTimeoutException {
        TransportEndpoint endpoint = transport.connect(target);
        SessionConnection c = null;
        try {
            if (!endpoint.poll(timeout)) {
                throw new IscsiTimeoutException("connect to " + target + " over " + transport.name()
                        + " did not complete within " + timeout.toMillis() + " ms");
            }
            c = new SessionConnection(transport, endpoint, queueDepth);
            c.connection.bind(endpoint, true);
            return c;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closeAfterFailure(endpoint, c);
            throw new TransportException("interrupted while connecting to " + target, e);
        } catch (TransportException | IscsiTimeoutException | RuntimeException e) {
            closeAfterFailure(endpoint, c);
            throw e;
        }
    }

    private static void closeAfterFailure(TransportEndpoint endpoint, SessionConnection c) {
        endpoint.disconnect();
        if (c != null) {
            c.connection.destroy();
        }
    }

    TransportConnection transportConnection() {
        return connection;
    }

    /** Sends a login-phase PDU and waits for the target's answer, bounded by {@code timeout}. */
    Pdu exchange(Pdu request, Duration timeout) throws TransportException, IscsiTimeoutException {
        connection.sendPdu(request);
        return next(request, timeout);
    }

    /** The next PDU the target sends while this connection is not in full feature phase. */
    Pdu next(Pdu request, Duration timeout) throws TransportException, IscsiTimeoutException {
        try {
            Object next = loginInbox.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
            if (next == null) {
                throw new IscsiTimeoutException("no answer to " + request.opcode() + " from "
                        + TargetAddress.of(endpoint.remoteAddress()) + " within " + timeout.toMillis() + " ms");
            }
            if (next instanceof Throwable failure) {
                throw new TransportException("connection to " + TargetAddress.of(endpoint.remoteAddress()) + " failed during login: "
                        + failure.getMessage(), failure);
            }
            return (Pdu) next;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TransportException("interrupted while waiting for the answer to " + request.opcode(), e);
        }
    }

    /** Leaves login phase: from now on PDUs go to {@code listener}. */
    void enterFullFeaturePhase(Listener listener, int expStatSN) throws TransportException {
        this.expStatSN = expStatSN;
        this.listener = listener;
        if (failedDuringLogin) {
            throw new TransportException("connection to " + TargetAddress.of(endpoint.remoteAddress()) + " failed as login ended");
        }
        connection.start();
    }

    /** Full-feature phase with no session behind it: answers keep going to {@link #exchange}. */
    void startForDiscovery(int expStatSN) throws TransportException {
        this.expStatSN = expStatSN;
        connection.start();
    }

    void send(Pdu pdu) throws TransportException {
        connection.sendPdu(pdu);
    }

    void send(Task task) throws TransportException {
        connection.sendTask(task);
    }

    void cleanup(Task task) {
        connection.cleanupTask(task);
    }

    int expStatSN() {
        return expStatSN;
    }

    /** Records a StatSN the target sent, so ExpStatSN moves past it. */
    void statSNReceived(int statSN) {
        int next = statSN + 1;
        if (io.ostia.api.pdu.SerialNumbers.greaterThan(next, expStatSN)) {
            expStatSN = next;
        }
    }

    /**
     * Tears the connection down in the order the SPI recommends (disconnect, then stop, then
     * destroy). Idempotent.
     */
    void release(StopMode mode) {
        if (released.compareAndSet(false, true)) {
            listener = null;
            endpoint.disconnect();
            connection.stop(mode);
            connection.destroy();
        }
    }

    @Override
    public void pduReceived(Pdu pdu) {
        Listener l = listener;
        if (l != null) {
            l.pduReceived(this, pdu);
        } else if (!released.get()) {
            loginInbox.add(pdu);
        }
    }

    @Override
    public void scsiResponseReceived(ScsiResponseHolder response) {
        Listener l = listener;
        if (l != null) {
            l.scsiResponseReceived(this, response);
        } else {
            pduReceived(response.toRecord()); // not in full-feature phase: kept, so as the record
        }
    }

    @Override
    public void commandWindowUpdate(int expCmdSN, int maxCmdSN) {
        Listener l = listener;
        if (l != null) {
            l.commandWindowUpdate(this, expCmdSN, maxCmdSN);
        }
    }

    @Override
    public int expectedStatSN() {
        return expStatSN;
    }

    @Override
    public void connectionFailed(Throwable cause) {
        Listener l = listener;
        if (l != null) {
            l.connectionFailed(this, cause);
        } else {
            failedDuringLogin = true;
            loginInbox.add(cause);
        }
    }

    @Override
    public void transportLeaving(IscsiTransport leaving) {
        Listener l = listener;
        if (l != null) {
            l.transportLeaving(this, leaving);
        } else {
            loginInbox.add(new TransportException("transport " + leaving.name() + " is leaving"));
        }
    }

    @Override
    public String toString() {
        return transport.name() + " connection to " + endpoint.remoteAddress();
    }
}
