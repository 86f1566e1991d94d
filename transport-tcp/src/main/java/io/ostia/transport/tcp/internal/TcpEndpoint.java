package io.ostia.transport.tcp.internal;

import io.ostia.api.TransportException;
import io.ostia.api.spi.TransportEndpoint;
import io.ostia.transport.tcp.TcpTransportOptions;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.channels.UnresolvedAddressException;
import java.nio.channels.UnsupportedAddressTypeException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One TCP connection to a target. The socket is non-blocking from the start: {@link #poll}
 * waits for the connect on a selector of its own in the caller's thread (Linux's ep_poll), so
 * connecting needs no thread; once up, the same non-blocking channel serves the bound
 * connection's reader (which selects for reads) and senders (which select for room to write,
 * so that no send can block for longer than the progress timeout).
 *
 * <p>{@link #lock} guards the state and is never held while waiting, so {@link #disconnect}
 * can always get in while another thread polls.
 */
final class TcpEndpoint implements TransportEndpoint {

    private static final System.Logger LOG = System.getLogger(TcpEndpoint.class.getName());

    enum State {
        /** The connect is under way; poll finishes it. */
        CONNECTING,
        /** Connected; a connection may be bound. */
        UP,
        /** The connect failed; poll reports why. */
        FAILED,
        /** Disconnected, or its connection stopped: the socket is closed. */
        DOWN
    }

    private final TcpTransport transport;
    private final InetSocketAddress remote;
    private final SocketChannel channel;
    private final long connectDeadline;
    private final Duration connectTimeout;
    private final ReentrantLock lock = new ReentrantLock();
    /** One poller at a time drives finishConnect; others wait for it (bounded by their timeout). */
    private final ReentrantLock pollLock = new ReentrantLock();

    /** Written under {@link #lock}; volatile so that the per-PDU health check reads it without the lock. */
    private volatile State state;
    private Selector connectSelector;
    private TransportException connectFailure;
    private InetSocketAddress local;
    private Binding bound;
    /** True once disconnect was called: a closed socket is then no failure to report. */
    private boolean disconnectRequested;

    private TcpEndpoint(TcpTransport transport, InetSocketAddress remote, SocketChannel channel, Selector selector,
            TcpTransportOptions options) {
        this.transport = transport;
        this.remote = remote;
        this.channel = channel;
        this.connectTimeout = options.connectTimeout();
        this.connectDeadline = System.nanoTime() + connectTimeout.toNanos();
        this.connectSelector = selector;
        this.state = selector == null ? State.UP : State.CONNECTING;
        if (state == State.UP) {
            local = localOf(channel);
        }
    }

    /**
     * Opens a non-blocking socket and starts connecting; failures that show at once are thrown.
     * An IPv4 target gets an IPv4 socket: Java's default is a dual-stack IPv6 socket, which
     * reaches IPv4 through a v4-mapped address. libiscsi opens IPv4; the mapped path was a suspect
     * for the targets' extra CPU serving Ostia, not confirmed (docs/performance.md, issue 14).
     */
    static TcpEndpoint open(TcpTransport transport, InetSocketAddress remote, TcpTransportOptions options)
            throws TransportException {
        SocketChannel channel = null;
        Selector selector = null;
        try {
            channel = remote.getAddress() instanceof Inet4Address
                    ? SocketChannel.open(StandardProtocolFamily.INET) : SocketChannel.open();
            channel.configureBlocking(false);
            configure(channel, options);
            if (!channel.connect(remote)) {
                selector = Selector.open();
                channel.register(selector, SelectionKey.OP_CONNECT);
            }
            return new TcpEndpoint(transport, remote, channel, selector, options);
        } catch (IOException | UnresolvedAddressException | UnsupportedAddressTypeException e) {
            TransportException failure = new TransportException("cannot connect to " + describe(remote) + ": "
                    + reason(e), e);
            closeAfter(failure, selector, channel);
            throw failure;
        }
    }

    /**
     * TCP_NODELAY because every PDU is a complete message someone waits for; keep-alive so a
     * vanished peer is found even on an idle connection; SO_LINGER off so close never blocks.
     */
    private static void configure(SocketChannel channel, TcpTransportOptions options) throws IOException {
        channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
        channel.setOption(StandardSocketOptions.SO_KEEPALIVE, true);
        channel.setOption(StandardSocketOptions.SO_LINGER, -1);
        if (options.sendBufferSize() > 0) {
            channel.setOption(StandardSocketOptions.SO_SNDBUF, options.sendBufferSize());
        }
        if (options.receiveBufferSize() > 0) {
            channel.setOption(StandardSocketOptions.SO_RCVBUF, options.receiveBufferSize());
        }
    }

    @Override
    public boolean poll(Duration timeout) throws TransportException, InterruptedException {
        long start = System.nanoTime();
        long deadline = start + Math.max(0, timeout.toNanos());
        if (!pollLock.tryLock(Math.max(0, timeout.toNanos()), TimeUnit.NANOSECONDS)) {
            return isUp();
        }
        try {
            while (true) {
                Selector selector;
                lock.lock();
                try {
                    switch (state) {
                        case UP -> {
                            return true;
                        }
                        case FAILED -> throw new TransportException(connectFailure.getMessage(), connectFailure);
                        case DOWN -> throw new TransportException("the connection to " + describe(remote)
                                + " was disconnected " + (local == null ? "before it came up" : "after it came up")
                                + (bound == null ? "" : " and is being released"));
                        case CONNECTING -> selector = connectSelector;
                        default -> throw new IllegalStateException("unknown state " + state);
                    }
                } finally {
                    lock.unlock();
                }
                long now = System.nanoTime();
                if (now - connectDeadline >= 0) {
                    throw failConnect(new TransportException("cannot connect to " + describe(remote) + ": no answer within "
                            + connectTimeout.toMillis() + " ms (the transport's connect timeout)"));
                }
                long wait = Math.min(deadline, connectDeadline) - now;
                if (wait <= 0) {
                    return false;
                }
                try {
                    selector.select(Math.max(1, TimeUnit.NANOSECONDS.toMillis(wait)));
                    selector.selectedKeys().clear();
                } catch (ClosedSelectorException e) {
                    continue; // disconnect closed it: the state says what happened
                } catch (IOException e) {
                    throw failConnect(new TransportException("cannot connect to " + describe(remote)
                            + ": waiting for the connect failed: " + reason(e), e));
                }
                if (Thread.interrupted()) {
                    throw new InterruptedException("interrupted while connecting to " + describe(remote));
                }
                finishConnect();
            }
        } finally {
            pollLock.unlock();
        }
    }

    private void finishConnect() throws TransportException {
        boolean connected;
        try {
            connected = channel.finishConnect();
        } catch (IOException e) {
            lock.lock();
            try {
                if (state != State.CONNECTING) {
                    return; // disconnected meanwhile: the loop reports that
                }
            } finally {
                lock.unlock();
            }
            throw failConnect(new TransportException("cannot connect to " + describe(remote) + ": " + reason(e), e));
        }
        if (!connected) {
            return;
        }
        Selector selector;
        lock.lock();
        try {
            if (state != State.CONNECTING) {
                return;
            }
            state = State.UP;
            local = localOf(channel);
            selector = connectSelector;
            connectSelector = null;
        } finally {
            lock.unlock();
        }
        closeSelector(selector);
        LOG.log(Level.DEBUG, () -> "connected " + local + " -> " + remote);
    }

    private TransportException failConnect(TransportException failure) {
        Selector selector;
        lock.lock();
        try {
            if (state != State.CONNECTING) {
                return failure;
            }
            state = State.FAILED;
            connectFailure = failure;
            selector = connectSelector;
            connectSelector = null;
        } finally {
            lock.unlock();
        }
        closeAfter(failure, selector, channel);
        transport.endpointReleased(this);
        return failure;
    }

    @Override
    public InetSocketAddress remoteAddress() {
        return remote;
    }

    @Override
    public InetSocketAddress localAddress() {
        lock.lock();
        try {
            return state == State.UP ? local : null;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void disconnect() {
        Selector selector;
        Binding connection;
        lock.lock();
        try {
            disconnectRequested = true;
            if (state == State.DOWN || state == State.FAILED) {
                return;
            }
            state = State.DOWN;
            selector = connectSelector;
            connectSelector = null;
            connection = bound;
        } finally {
            lock.unlock();
        }
        LOG.log(Level.DEBUG, () -> "disconnecting " + this + (connection == null ? "" : ", release waits for the "
                + "bound connection's stop"));
        closeSelector(selector);
        closeChannel();
        if (connection == null) {
            transport.endpointReleased(this);
        } else {
            // The receive thread, woken, finds the socket closed and ends without a failure
            // report; the release finishes in the connection's stop (Linux queues release work
            // for it).
            connection.wakeReceiver();
        }
    }

    /** Attaches {@code connection}: only an endpoint that is up and carries none. */
    void attach(Binding connection) throws TransportException {
        lock.lock();
        try {
            switch (state) {
                case UP -> {
                    if (bound != null) {
                        throw new TransportException("the endpoint " + this + " already carries a connection");
                    }
                    bound = connection;
                }
                case CONNECTING -> throw new TransportException("cannot bind to the endpoint " + this
                        + ": it is not up yet (poll until it is)");
                case FAILED -> throw new TransportException("cannot bind to the endpoint " + this
                        + ": its connect failed: " + connectFailure.getMessage());
                case DOWN -> throw new TransportException("cannot bind to the endpoint " + this
                        + ": it is disconnected or being torn down");
                default -> throw new IllegalStateException("unknown state " + state);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Undoes {@link #attach} when the bind failed after it: the socket stays up. */
    void cancelAttach(Binding connection) {
        boolean releasePending;
        lock.lock();
        try {
            if (bound != connection) {
                return;
            }
            bound = null;
            releasePending = state == State.DOWN;
        } finally {
            lock.unlock();
        }
        if (releasePending) {
            transport.endpointReleased(this);
        }
    }

    /**
     * The bound connection stopped: the socket closes (as Linux's TCP stop_conn releases it)
     * and a release queued by an earlier disconnect completes.
     */
    void detach(Binding connection) {
        boolean wasDisconnected;
        lock.lock();
        try {
            if (bound != connection) {
                return;
            }
            bound = null;
            wasDisconnected = state == State.DOWN;
            state = State.DOWN;
        } finally {
            lock.unlock();
        }
        if (!wasDisconnected) {
            closeChannel();
        }
        transport.endpointReleased(this);
    }

    /** Closes the socket at once, for a failed or stopping connection; the state stays for detach. */
    void abort() {
        closeChannel();
    }

    boolean isUp() {
        return state == State.UP;
    }

    boolean disconnectRequested() {
        lock.lock();
        try {
            return disconnectRequested;
        } finally {
            lock.unlock();
        }
    }

    TcpTransport transport() {
        return transport;
    }

    SocketChannel channel() {
        return channel;
    }

    private void closeChannel() {
        try {
            channel.close();
        } catch (IOException e) {
            LOG.log(Level.WARNING, "closing the socket of " + this + " failed", e);
        }
    }

    private void closeSelector(Selector selector) {
        if (selector == null) {
            return;
        }
        try {
            selector.close();
        } catch (IOException e) {
            LOG.log(Level.WARNING, "closing the connect selector of " + this + " failed", e);
        }
    }

    private static void closeAfter(Exception failure, Selector selector, SocketChannel channel) {
        for (AutoCloseable closeable : new AutoCloseable[] {selector, channel}) {
            if (closeable == null) {
                continue;
            }
            try {
                closeable.close();
            } catch (Exception e) {
                failure.addSuppressed(e);
            }
        }
    }

    private static InetSocketAddress localOf(SocketChannel channel) {
        try {
            SocketAddress address = channel.getLocalAddress();
            return address instanceof InetSocketAddress inet ? inet : null;
        } catch (IOException e) {
            LOG.log(Level.DEBUG, "no local address for a connected socket", e);
            return null;
        }
    }

    static String describe(InetSocketAddress address) {
        return address.getHostString() + ":" + address.getPort();
    }

    static String reason(Throwable e) {
        if (e instanceof UnresolvedAddressException) {
            return "the host name cannot be resolved";
        }
        if (e instanceof UnsupportedAddressTypeException) {
            return "unsupported address type";
        }
        String message = e.getMessage();
        return message == null ? e.getClass().getSimpleName() : message;
    }

    @Override
    public String toString() {
        InetSocketAddress localAddress = local;
        return (localAddress == null ? "" : describe(localAddress) + " -> ") + describe(remote);
    }
}
