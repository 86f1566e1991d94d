package io.ostia.target.internal.iscsi;

import io.ostia.api.iser.IserCmHeader;
import io.ostia.api.iser.IserFormatException;
import io.ostia.rdma.CmEvent;
import io.ostia.rdma.CmEventChannel;
import io.ostia.rdma.CmId;
import io.ostia.rdma.RdmaException;
import io.ostia.rdma.RdmaProvider;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * A listening iSER portal (RFC 7145) on an RDMA provider: a connection-manager listener whose
 * event thread accepts each connect request carrying iSER private data as an
 * {@link IserPortalConnection}, and tells connections when their peer disconnected or their
 * device went away.
 */
final class IserPortal implements Portal {

    private static final System.Logger LOG = System.getLogger(IserPortal.class.getName());
    private static final AtomicInteger PORTAL_IDS = new AtomicInteger();
    /** What isert accepts with: it uses no zero-based addresses and no Send with Invalidate. */
    static final byte[] ACCEPT_PRIVATE_DATA = new IserCmHeader(true, true).encode();

    private final RdmaProvider rdma;
    private final int commandWindow;
    private final Function<IserPortalConnection, PduHandler> handlers;
    private final ConnectionAdmission admission;
    /** Refusals other than the caps' (which {@link ConnectionAdmission} logs): malformed requests, set-up failures. */
    private final RateLimitedLog refusals = new RateLimitedLog(LOG, Duration.ofSeconds(10));
    private final CmEventChannel channel;
    private final CmId listener;
    private final InetSocketAddress bound;
    private final Map<CmId, IserPortalConnection> connections = new ConcurrentHashMap<>();
    private final int id = PORTAL_IDS.incrementAndGet();
    private final AtomicInteger connectionIds = new AtomicInteger();
    private volatile boolean closed;

    IserPortal(String host, int port, RdmaProvider rdma, TargetServer.Settings settings,
               Function<IserPortalConnection, PduHandler> handlers, ConnectionAdmission admission) throws IOException {
        this.rdma = rdma;
        this.commandWindow = settings.commandWindow();
        this.handlers = handlers;
        this.admission = admission;
        CmEventChannel c = null;
        CmId l = null;
        try {
            rdma.ensureAvailability();
            c = rdma.createEventChannel(this::onEvent);
            l = c.createId();
            l.bind(new InetSocketAddress(host, port));
        } catch (RdmaException | IllegalArgumentException | IllegalStateException e) {
            IOException failure = new IOException("cannot listen for iSER on " + host + ":" + port + " ("
                    + rdma.name() + " RDMA): " + e.getMessage(), e);
            closeQuietly(l, c, failure);
            throw failure;
        }
        this.channel = c;
        this.listener = l;
        this.bound = l.localAddress();
    }

    private static void closeQuietly(CmId listener, CmEventChannel channel, Exception failure) {
        try {
            if (listener != null) {
                listener.close();
            }
            if (channel != null) {
                channel.close();
            }
        } catch (RuntimeException e) {
            failure.addSuppressed(e);
        }
    }

    @Override
    public void start() {
        listener.listen(128);
    }

    @Override
    public InetSocketAddress address() {
        return bound;
    }

    /** On the channel's thread. */
    private void onEvent(CmEvent event) {
        switch (event.type()) {
            case CONNECT_REQUEST -> connectRequest(event.id(), event.privateData());
            case ESTABLISHED -> LOG.log(Level.DEBUG, () -> "iSER connection established: " + event.id());
            case DISCONNECTED, DEVICE_REMOVAL, CONNECT_ERROR, UNREACHABLE, REJECTED -> {
                IserPortalConnection connection = connections.get(event.id());
                if (connection != null) {
                    connection.close();
                } else if (event.id() == listener && event.type() == io.ostia.rdma.CmEventType.DEVICE_REMOVAL) {
                    // Freed at once: the device stays open (and `rdma link delete` waits) while any id is on it.
                    listener.close();
                    LOG.log(Level.ERROR, "iSER portal " + bound + ": its RDMA device was removed; it accepts no more");
                }
            }
            default -> LOG.log(Level.DEBUG, () -> "iSER portal " + bound + ": " + event);
        }
    }

    private void connectRequest(CmId id, byte[] privateData) {
        String refusal = null;
        ConnectionAdmission.Ticket ticket = null;
        InetSocketAddress remote = id.remoteAddress();
        if (closed) {
            refusal = "the portal is closing";
        } else if (remote == null) {
            refusal = "the connect request names no peer address";
        } else {
            try {
                IserCmHeader.decode(privateData);
                // Counted until the connection's thread freed its QP, regions and buffers (onExit).
                ticket = admission.admit(remote.getAddress(), "iSER " + bound);
            } catch (IserFormatException e) {
                refusal = "malformed iSER CM private data (" + e.field() + "): " + e.getMessage();
            }
        }
        if (ticket != null) {
            String name = "ostia-target-iser-" + this.id + "-conn-" + connectionIds.incrementAndGet();
            ConnectionAdmission.Ticket held = ticket;
            try {
                IserPortalConnection connection = new IserPortalConnection(id, name, commandWindow, handlers, () -> {
                    connections.remove(id);
                    held.release();
                });
                connections.put(id, connection);
                connection.start();
                if (closed) {
                    connection.close();
                }
                return;
            } catch (RuntimeException e) {
                // The constructor freed what it allocated; the id is closed below.
                held.release();
                LOG.log(Level.WARNING, "iSER portal " + bound + ": could not set up a connection", e);
                refusal = "could not set up the connection: " + e.getMessage();
            }
        }
        if (refusal != null) {
            refusals.log(Level.WARNING, "iSER portal " + bound + ": refusing a connection from " + remote + ": "
                    + refusal);
        }
        try {
            id.reject(new byte[0]);
        } finally {
            id.close();
        }
    }

    @Override
    public List<String> close(Duration wait) {
        closed = true;
        long deadline = System.nanoTime() + wait.toNanos();
        List<String> stuck = new ArrayList<>();
        try {
            // First, so that no connect request comes in while the connections close.
            listener.close();
            // A request handled as the portal closed may have added a connection: look twice.
            for (int pass = 0; pass < 2 && stuck.isEmpty() && !connections.isEmpty(); pass++) {
                List<IserPortalConnection> open = List.copyOf(connections.values());
                open.forEach(IserPortalConnection::close);
                for (IserPortalConnection connection : open) {
                    if (!connection.thread().join(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())))) {
                        stuck.add(connection.thread().getName());
                    }
                }
            }
            channel.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stuck.add(channel.threadName());
        } catch (RuntimeException e) {
            // An id of a connection whose thread is stuck is still open: say what stays.
            LOG.log(Level.ERROR, "iSER portal " + bound + " on " + rdma.name() + " RDMA: not everything closed", e);
            stuck.add(channel.threadName());
        }
        return stuck;
    }
}
