package io.ostia.target.internal.iscsi;

import io.ostia.api.ChapCredentials;
import io.ostia.api.pdu.AsyncMessage;
import io.ostia.rdma.RdmaProvider;
import io.ostia.target.internal.scsi.LogicalUnit;
import io.ostia.target.internal.scsi.Nexus;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * The target engine: target nodes, portals, sessions, the NOP-In scheduler. Owns every thread,
 * socket and logical unit it was given, and releases them all in {@link #close()}.
 */
public final class TargetServer implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(TargetServer.class.getName());
    /** The one portal group every portal belongs to. */
    public static final int TPGT = 1;

    /**
     * Tunables with sensible defaults.
     *
     * @param loginTimeout   a connection that has not completed login by then is closed
     * @param maxConnections connections beyond this many (logged in or not) are refused at accept;
     *                       a connection counts until everything it held is freed
     * @param maxConnectionsPerAddress the same, from one IP address
     * @param dataOutTimeout a write whose Data-Out has not all come this long after the command
     *                       (or its last Data-Out) is aborted and its buffer returned
     * @param writeBudget    bytes of write data all connections may buffer at once
     * @param writeShare     the fraction of {@code writeBudget} one connection may hold, in (0, 1]
     *                       (see {@link WriteBudget}); beyond either, TASK SET FULL
     */
    public record Settings(int commandWindow, Duration nopInterval, Duration nopTimeout, Duration logoutGrace,
                           int maxRecvDataSegmentLength, int maxBurstLength, int firstBurstLength,
                           int maxOutstandingR2T, Optional<ChapCredentials> discoveryChap, Duration loginTimeout,
                           int maxConnections, int maxConnectionsPerAddress, Duration dataOutTimeout,
                           long writeBudget, double writeShare) {
        public Settings {
            if (maxConnections < 1 || maxConnectionsPerAddress < 1) {
                throw new IllegalArgumentException("connection limits must be at least 1: maxConnections "
                        + maxConnections + ", maxConnectionsPerAddress " + maxConnectionsPerAddress);
            }
            if (!dataOutTimeout.isPositive() || !loginTimeout.isPositive()) {
                throw new IllegalArgumentException("login and Data-Out timeouts must be positive: " + loginTimeout
                        + ", " + dataOutTimeout);
            }
            WriteBudget.check(writeBudget, writeShare);
        }

        public static Settings defaults() {
            return new Settings(128, Duration.ofSeconds(5), Duration.ofSeconds(15), Duration.ofSeconds(2),
                    262144, 1 << 20, 65536, 4, Optional.empty(), Duration.ofSeconds(15), 1024, 256,
                    Duration.ofSeconds(30), WriteBudget.DEFAULT_BYTES, WriteBudget.DEFAULT_SHARE);
        }

        public Settings withNop(Duration interval, Duration timeout) {
            return new Settings(commandWindow, interval, timeout, logoutGrace, maxRecvDataSegmentLength,
                    maxBurstLength, firstBurstLength, maxOutstandingR2T, discoveryChap, loginTimeout, maxConnections,
                    maxConnectionsPerAddress, dataOutTimeout, writeBudget, writeShare);
        }

        public Settings withLogoutGrace(Duration grace) {
            return new Settings(commandWindow, nopInterval, nopTimeout, grace, maxRecvDataSegmentLength,
                    maxBurstLength, firstBurstLength, maxOutstandingR2T, discoveryChap, loginTimeout, maxConnections,
                    maxConnectionsPerAddress, dataOutTimeout, writeBudget, writeShare);
        }

        public Settings withDiscoveryChap(Optional<ChapCredentials> chap) {
            return new Settings(commandWindow, nopInterval, nopTimeout, logoutGrace, maxRecvDataSegmentLength,
                    maxBurstLength, firstBurstLength, maxOutstandingR2T, chap, loginTimeout, maxConnections,
                    maxConnectionsPerAddress, dataOutTimeout, writeBudget, writeShare);
        }

        public Settings withConnectionLimits(int max, int perAddress) {
            return new Settings(commandWindow, nopInterval, nopTimeout, logoutGrace, maxRecvDataSegmentLength,
                    maxBurstLength, firstBurstLength, maxOutstandingR2T, discoveryChap, loginTimeout, max, perAddress,
                    dataOutTimeout, writeBudget, writeShare);
        }

        public Settings withDataOutTimeout(Duration timeout) {
            return new Settings(commandWindow, nopInterval, nopTimeout, logoutGrace, maxRecvDataSegmentLength,
                    maxBurstLength, firstBurstLength, maxOutstandingR2T, discoveryChap, loginTimeout, maxConnections,
                    maxConnectionsPerAddress, timeout, writeBudget, writeShare);
        }

        public Settings withWriteBudget(long bytes, double share) {
            return new Settings(commandWindow, nopInterval, nopTimeout, logoutGrace, maxRecvDataSegmentLength,
                    maxBurstLength, firstBurstLength, maxOutstandingR2T, discoveryChap, loginTimeout, maxConnections,
                    maxConnectionsPerAddress, dataOutTimeout, bytes, share);
        }

        public Settings withLoginTimeout(Duration timeout) {
            return new Settings(commandWindow, nopInterval, nopTimeout, logoutGrace, maxRecvDataSegmentLength,
                    maxBurstLength, firstBurstLength, maxOutstandingR2T, discoveryChap, timeout, maxConnections,
                    maxConnectionsPerAddress, dataOutTimeout, writeBudget, writeShare);
        }
    }

    private final Map<String, TargetNode> nodes;
    private final Settings settings;
    private final List<PortalSpec> portalSpecs;
    private final List<Portal> portals = new ArrayList<>();
    private final Map<String, TargetSession> sessions = new HashMap<>();
    private final Set<IscsiConnection> connections = ConcurrentHashMap.newKeySet();
    /** {@link #refuseLogouts}: how many still to refuse, and their Time2Wait; guarded by this. */
    private int logoutRefusals;
    private int refusedLogoutTime2Wait;
    private final AtomicInteger pingTags = new AtomicInteger();
    /** Write data buffered by all connections. */
    private final WriteBudget writeBudget;
    private final AtomicInteger connectionIds = new AtomicInteger();
    private final ConnectionAdmission admission;
    private final ConnectionBuffers connectionBuffers = new ConnectionBuffers();
    private final ChapThrottle chapThrottle = new ChapThrottle();
    private int nextTsih = 1;
    private ScheduledExecutorService scheduler;
    private ScheduledFuture<?> housekeeping;
    private volatile boolean closed;

    /** How a portal's connections carry iSCSI. */
    public enum Transport { TCP, ISER }

    /**
     * Where to listen: host (name or address), port (0 picks a free one), and the transport; an
     * iSER portal names the RDMA provider it listens on (native or a loopback fabric).
     */
    public record PortalSpec(String host, int port, Transport transport, RdmaProvider rdma) {
        public PortalSpec {
            Objects.requireNonNull(host, "host");
            Objects.requireNonNull(transport, "transport");
            if ((transport == Transport.ISER) != (rdma != null)) {
                throw new IllegalArgumentException("an iSER portal, and only an iSER portal, names an RDMA provider");
            }
        }

        /** A TCP portal. */
        public PortalSpec(String host, int port) {
            this(host, port, Transport.TCP, null);
        }

        public static PortalSpec iser(String host, int port, RdmaProvider rdma) {
            return new PortalSpec(host, port, Transport.ISER, Objects.requireNonNull(rdma, "rdma"));
        }
    }

    public TargetServer(List<TargetNode> nodes, List<PortalSpec> portals, Settings settings) {
        if (nodes.isEmpty()) {
            throw new IllegalArgumentException("a target needs at least one target node");
        }
        if (portals.isEmpty()) {
            throw new IllegalArgumentException("a target needs at least one portal");
        }
        this.nodes = new LinkedHashMap<>();
        for (TargetNode node : nodes) {
            if (this.nodes.put(node.name(), node) != null) {
                throw new IllegalArgumentException("target name " + node.name() + " is used twice");
            }
        }
        this.portalSpecs = List.copyOf(portals);
        this.settings = settings;
        this.admission = new ConnectionAdmission(settings.maxConnections(), settings.maxConnectionsPerAddress());
        this.writeBudget = new WriteBudget(settings.writeBudget(), settings.writeShare());
    }

    /**
     * Binds every portal and starts serving; on failure everything started so far is stopped.
     *
     * @throws IllegalStateException if already started, or closed: nothing would stop what a
     *                               start after {@link #close()} binds and runs
     */
    public synchronized void start() throws IOException {
        if (closed) {
            throw new IllegalStateException("target " + nodes.keySet() + " is closed");
        }
        if (scheduler != null) {
            throw new IllegalStateException("target already started");
        }
        scheduler = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().name("ostia-target-scheduler").daemon(true).factory());
        try {
            for (PortalSpec spec : portalSpecs) {
                portals.add(switch (spec.transport()) {
                    case TCP -> new TcpPortal(spec.host(), spec.port(), transport -> newConnection(transport,
                            c -> new PduDataMover(c, transport, writeBudget)), admission, connectionBuffers);
                    case ISER -> new IserPortal(spec.host(), spec.port(), spec.rdma(), settings, transport ->
                            newConnection(transport, c -> new RdmaDataMover(c, transport, writeBudget)), admission);
                });
            }
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
        portals.forEach(Portal::start);
        long idle = settings.nopInterval().toNanos();
        long timeout = settings.nopTimeout().toNanos();
        long loginTimeout = settings.loginTimeout().toNanos();
        long dataOutTimeout = settings.dataOutTimeout().toNanos();
        long tick = Math.clamp(Math.min(idle > 0 ? idle : Long.MAX_VALUE, loginTimeout) / 4_000_000, 50, 1000);
        housekeeping = scheduler.scheduleWithFixedDelay(() -> {
            for (IscsiConnection c : connections) {
                c.housekeeping(idle, timeout, loginTimeout, dataOutTimeout);
            }
        }, tick, tick, TimeUnit.MILLISECONDS);
        LOG.log(Level.INFO, "iSCSI target serving " + nodes.keySet() + " on " + addresses());
    }

    private <T extends PduTransport> PduHandler newConnection(T transport, Function<IscsiConnection, DataMover> movers) {
        IscsiConnection connection = new IscsiConnection(this, transport, connectionIds.incrementAndGet(), movers);
        connections.add(connection);
        return connection;
    }

    public synchronized List<InetSocketAddress> addresses() {
        return portals.stream().map(Portal::address).toList();
    }

    public Settings settings() {
        return settings;
    }

    Iterable<TargetNode> nodes() {
        return nodes.values();
    }

    TargetNode node(String name) {
        return nodes.get(name);
    }

    ChapThrottle chapThrottle() {
        return chapThrottle;
    }

    WriteBudget writeBudget() {
        return writeBudget;
    }

    int nextPingTag() {
        int tag;
        do {
            tag = pingTags.incrementAndGet();
        } while (tag == -1 || tag == 0);
        return tag;
    }

    static String sessionKey(String initiatorName, long isid, String targetName) {
        return initiatorName + '\n' + Long.toHexString(isid) + '\n' + targetName;
    }

    /**
     * Registers a new session once login succeeded, reinstating (closing) an older session of
     * the same initiator port on the same target (RFC 7143 §6.3.5).
     */
    TargetSession createSession(TargetNode node, String initiatorName, long isid, int firstCmdSN,
                          IscsiConnection connection) throws IOException {
        TargetSession old;
        TargetSession session;
        synchronized (this) {
            if (closed) {
                throw new IOException("target is shutting down");
            }
            String key = sessionKey(initiatorName, isid, node == null ? "" : node.name());
            int tsih = allocateTsih();
            session = new TargetSession(node, initiatorName, isid, tsih, firstCmdSN, settings.commandWindow());
            session.attach(connection);
            old = sessions.put(key, session);
        }
        if (old != null) {
            LOG.log(Level.INFO, "reinstating " + old + " for a new login with the same ISID");
            IscsiConnection oldConnection = old.connection();
            if (oldConnection != null) {
                oldConnection.shutdown();
            }
            nexusEnded(old);
        }
        return session;
    }

    private int allocateTsih() {
        for (int i = 0; i < 65535; i++) {
            int candidate = nextTsih;
            nextTsih = nextTsih == 65535 ? 1 : nextTsih + 1;
            boolean used = false;
            for (TargetSession s : sessions.values()) {
                if (s.tsih() == candidate) {
                    used = true;
                    break;
                }
            }
            if (!used) {
                return candidate;
            }
        }
        throw new IllegalStateException("all 65535 TSIH values are in use");
    }

    /** The connection ended; with one connection per session, so did its session. */
    void connectionClosed(TargetSession session, IscsiConnection connection) {
        connections.remove(connection);
        boolean removed;
        synchronized (this) {
            removed = sessions.remove(session.reinstatementKey(), session);
            notifyAll();
        }
        if (removed) {
            nexusEnded(session);
        }
    }

    /** A connection that never completed login went away. */
    void loginAbandoned(IscsiConnection connection) {
        connections.remove(connection);
    }

    /**
     * Releases what {@code session}'s I_T nexus holds on its LUs (a RESERVE(6) reservation, unit
     * attentions); on logout, connection loss or reinstatement, so possibly twice.
     */
    void nexusEnded(TargetSession session) {
        if (session.node() == null) {
            return;
        }
        for (LogicalUnit unit : session.node().units()) {
            unit.nexusLost(session.nexus());
        }
    }

    /**
     * A reset of {@code unit} asked for by {@code requester}: the other sessions' tasks on the LU
     * are aborted and the sessions on the node get a unit attention, the requester's too when
     * {@code alsoRequester}: SAM-5 gives LOGICAL UNIT RESET's to every I_T nexus, while after a
     * target reset the requester already knows (tgtd does the same; libiscsi's suite relies on both).
     */
    void resetUnit(TargetSession requester, LogicalUnit unit, boolean alsoRequester) {
        List<Nexus> nexuses = new ArrayList<>();
        synchronized (this) {
            for (TargetSession s : sessions.values()) {
                if (s.node() == requester.node()) {
                    if (s != requester || alsoRequester) {
                        nexuses.add(s.nexus());
                    }
                    IscsiConnection connection = s.connection();
                    if (s != requester && connection != null) {
                        connection.abortFromElsewhere(unit);
                    }
                }
            }
        }
        unit.reset(nexuses);
    }

    /**
     * TARGET COLD RESET, after its warm reset and response (RFC 7143 §11.5.1): every connection
     * to the requester's target node closes, ending every session; the requester closes its own.
     */
    void coldReset(TargetSession requester) {
        List<IscsiConnection> others = new ArrayList<>();
        synchronized (this) {
            for (TargetSession s : sessions.values()) {
                IscsiConnection connection = s.connection();
                if (s != requester && s.node() == requester.node() && connection != null) {
                    others.add(connection);
                }
            }
        }
        others.forEach(IscsiConnection::shutdown);
    }

    synchronized boolean hasSession(int tsih) {
        return sessions.values().stream().anyMatch(s -> s.tsih() == tsih);
    }

    /**
     * Drops every logged-in connection to {@code targetName} with an Async Message naming the
     * Time2Wait and Time2Retain (see {@link IscsiConnection#drop}); returns how many.
     */
    public int drop(String targetName, AsyncMessage.Event event, int time2Wait, int time2Retain) {
        int n = 0;
        for (IscsiConnection c : connections) {
            TargetSession s = c.session();
            if (s != null && !s.discovery() && s.node().name().equals(targetName)) {
                c.drop(event, time2Wait, time2Retain);
                n++;
            }
        }
        return n;
    }

    /**
     * Test hook: the next {@code count} logouts are answered CLEANUP_FAILED with
     * {@code time2Wait}, the session kept. No real target refuses a logout on demand (tgtd
     * always closes a session it is asked to), so an initiator's handling of the refusal needs it.
     */
    public synchronized void refuseLogouts(int count, int time2Wait) {
        logoutRefusals = count;
        refusedLogoutTime2Wait = time2Wait;
    }

    /** The Time2Wait of a logout to refuse now (one refusal used), or -1 to answer it normally. */
    synchronized int takeLogoutRefusal() {
        if (logoutRefusals <= 0) {
            return -1;
        }
        logoutRefusals--;
        return refusedLogoutTime2Wait;
    }

    public synchronized int sessionCount() {
        return sessions.size();
    }

    public int connectionCount() {
        return connections.size();
    }

    /** Off-heap bytes the TCP connections' large buffers hold now (bounded by {@link ConnectionBuffers#BOUND}). */
    public long connectionBufferBytes() {
        return connectionBuffers.allocated();
    }

    /**
     * Stops: asks every logged-in initiator to log out (async message), waits up to the logout
     * grace period, then closes portals and connections, waits for their threads (bounded), and
     * closes every logical unit. Idempotent.
     */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        Duration grace = settings.logoutGrace();
        if (!grace.isZero()) {
            for (IscsiConnection c : connections) {
                c.requestLogout((int) Math.max(1, grace.toSeconds()));
            }
            long deadline = System.nanoTime() + grace.toNanos();
            synchronized (this) {
                while (!sessions.isEmpty()) {
                    long left = (deadline - System.nanoTime()) / 1_000_000;
                    if (left <= 0) {
                        break;
                    }
                    try {
                        wait(left);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        break;
                    }
                }
            }
        }
        if (housekeeping != null) {
            housekeeping.cancel(false);
        }
        List<String> stuck = new ArrayList<>();
        for (Portal portal : portals) {
            stuck.addAll(portal.close(Duration.ofSeconds(5)));
        }
        if (scheduler != null) {
            scheduler.shutdownNow();
            try {
                if (!scheduler.awaitTermination(5, TimeUnit.SECONDS)) {
                    stuck.add("ostia-target-scheduler");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (!stuck.isEmpty()) {
            LOG.log(Level.ERROR, "iSCSI target threads still running 5 s after close: " + stuck);
        }
        connectionBuffers.close();
        for (TargetNode node : nodes.values()) {
            for (LogicalUnit unit : node.units()) {
                try {
                    unit.close();
                } catch (IOException e) {
                    LOG.log(Level.ERROR, "closing LUN " + unit.lun() + " of " + node.name() + " failed", e);
                }
            }
        }
        LOG.log(Level.INFO, "iSCSI target stopped");
    }
}
