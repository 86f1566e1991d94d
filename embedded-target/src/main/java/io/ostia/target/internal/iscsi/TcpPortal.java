package io.ostia.target.internal.iscsi;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/** A listening TCP portal: accepts connections and gives each a reader thread and a session-layer handler. */
final class TcpPortal implements Portal, AutoCloseable {

    private static final System.Logger LOG = System.getLogger(TcpPortal.class.getName());
    private static final AtomicInteger PORTAL_IDS = new AtomicInteger();

    private final ServerSocketChannel server;
    private final InetSocketAddress bound;
    private final Function<PduTransport, PduHandler> handlers;
    private final ConnectionAdmission admission;
    private final ConnectionBuffers buffers;
    private final Set<TcpPortalConnection> connections = ConcurrentHashMap.newKeySet();
    private final Thread acceptor;
    private final int id = PORTAL_IDS.incrementAndGet();
    private final AtomicInteger connectionIds = new AtomicInteger();
    private volatile boolean closed;

    TcpPortal(String host, int port, Function<PduTransport, PduHandler> handlers, ConnectionAdmission admission,
              ConnectionBuffers buffers) throws IOException {
        this.handlers = handlers;
        this.admission = admission;
        this.buffers = buffers;
        this.server = ServerSocketChannel.open();
        try {
            server.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            server.bind(new InetSocketAddress(host, port), 128);
            this.bound = (InetSocketAddress) server.getLocalAddress();
        } catch (IOException e) {
            try {
                server.close();
            } catch (IOException closeFailure) {
                e.addSuppressed(closeFailure);
            }
            throw new IOException("cannot listen on " + host + ":" + port + ": " + e.getMessage(), e);
        }
        this.acceptor = Thread.ofPlatform().daemon(true).name("ostia-target-portal-" + id + "-accept")
                .unstarted(this::acceptLoop);
    }

    @Override
    public void start() {
        acceptor.start();
    }

    @Override
    public InetSocketAddress address() {
        return bound;
    }

    private void acceptLoop() {
        while (!closed) {
            SocketChannel channel;
            try {
                channel = server.accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (closed) {
                    return;
                }
                LOG.log(Level.WARNING, "portal " + bound + ": accept failed; retrying in 100 ms", e);
                sleepQuietly();
                continue;
            }
            ConnectionAdmission.Ticket ticket = admit(channel);
            if (ticket == null) {
                try {
                    channel.close();
                } catch (IOException e) {
                    LOG.log(Level.DEBUG, "closing a refused connection failed", e);
                }
                continue;
            }
            try {
                String name = "ostia-target-portal-" + id + "-conn-" + connectionIds.incrementAndGet();
                TcpPortalConnection[] holder = new TcpPortalConnection[1];
                TcpPortalConnection connection = new TcpPortalConnection(channel, name, handlers, buffers, () -> {
                    connections.remove(holder[0]);
                    ticket.release();
                });
                holder[0] = connection;
                connections.add(connection);
                if (closed) {
                    connection.close();
                }
                connection.start();
            } catch (IOException | RuntimeException e) {
                ticket.release();
                LOG.log(Level.WARNING, "portal " + bound + ": could not set up an accepted connection", e);
                try {
                    channel.close();
                } catch (IOException closeFailure) {
                    e.addSuppressed(closeFailure);
                }
            }
        }
    }

    /** A place for the accepted connection, or null when a cap is reached or its peer is already gone. */
    private ConnectionAdmission.Ticket admit(SocketChannel channel) {
        try {
            return admission.admit(((InetSocketAddress) channel.getRemoteAddress()).getAddress(), bound.toString());
        } catch (IOException e) {
            LOG.log(Level.DEBUG, "portal " + bound + ": an accepted connection has no peer address", e);
            return null;
        }
    }

    private static void sleepQuietly() {
        try {
            Thread.sleep(100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public List<String> close(Duration wait) {
        closed = true;
        try {
            server.close();
        } catch (IOException e) {
            LOG.log(Level.WARNING, "closing portal " + bound + " failed", e);
        }
        List<Thread> threads = new ArrayList<>();
        threads.add(acceptor);
        for (TcpPortalConnection connection : List.copyOf(connections)) {
            connection.close();
            threads.add(connection.thread());
        }
        long deadline = System.nanoTime() + wait.toNanos();
        List<String> stuck = new ArrayList<>();
        for (Thread thread : threads) {
            long left = Math.max(1, (deadline - System.nanoTime()) / 1_000_000);
            try {
                if (thread.getState() != Thread.State.NEW) {
                    thread.join(left);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (thread.isAlive()) {
                stuck.add(thread.getName());
            }
        }
        return stuck;
    }

    @Override
    public void close() {
        List<String> stuck = close(Duration.ofSeconds(5));
        if (!stuck.isEmpty()) {
            LOG.log(Level.ERROR, "portal " + bound + ": threads still running 5 s after close: " + stuck);
        }
    }
}
