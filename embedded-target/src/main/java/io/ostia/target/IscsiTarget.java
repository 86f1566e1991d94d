package io.ostia.target;

import io.ostia.api.ChapCredentials;
import io.ostia.api.IscsiUrl;
import io.ostia.api.pdu.AsyncMessage;
import io.ostia.rdma.RdmaProvider;
import io.ostia.target.internal.iscsi.TargetNode;
import io.ostia.target.internal.iscsi.TargetServer;
import io.ostia.target.internal.scsi.LogicalUnit;
import io.ostia.target.internal.store.BackingStore;
import io.ostia.target.internal.store.FileStore;
import io.ostia.target.internal.store.RamStore;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * An embedded iSCSI target. Build it, {@link #start()} it, point initiators at {@link #port()},
 * and {@link #close()} it, which logs initiators out, stops every thread, closes every socket
 * and frees every LUN's memory:
 *
 * <pre>{@code
 * try (IscsiTarget target = IscsiTarget.builder()
 *         .portal("127.0.0.1", 0)
 *         .target("iqn.2026-01.io.ostia:disk", t -> t.ramLun(64 << 20))
 *         .build()
 *         .start()) {
 *     int port = target.port();
 *     ...
 * }
 * }</pre>
 */
public final class IscsiTarget implements AutoCloseable {

    private static final Pattern NAME = Pattern.compile(
            "(iqn\\.\\d{4}-\\d{2}\\.[a-z0-9.-]+(:.*)?|eui\\.[0-9A-Fa-f]{16}|naa\\.[0-9A-Fa-f]{16}([0-9A-Fa-f]{16})?)");

    private final TargetServer server;

    private IscsiTarget(TargetServer server) {
        this.server = server;
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Binds the portals and starts serving.
     *
     * @throws IOException when a portal cannot be bound (the message names it); the target is
     *                     then closed and its LUNs freed
     */
    public IscsiTarget start() throws IOException {
        server.start();
        return this;
    }

    /** The port of the first portal: the one picked when 0 was asked for. */
    public int port() {
        return addresses().getFirst().getPort();
    }

    /** Every portal's bound address. */
    public List<InetSocketAddress> addresses() {
        List<InetSocketAddress> addresses = server.addresses();
        if (addresses.isEmpty()) {
            throw new IllegalStateException("the target is not started");
        }
        return addresses;
    }

    /**
     * The URL libiscsi's tools (and Ostia's {@code IscsiUrl}) take for a LUN of a target served
     * here, on the first portal: {@code iscsi://host:port/iqn/lun}.
     */
    public String url(String targetName, int lun) {
        InetSocketAddress address = addresses().getFirst();
        return new IscsiUrl(address.getAddress().getHostAddress(), address.getPort(), Optional.of(targetName),
                OptionalInt.of(lun), Optional.empty()).toString();
    }

    /**
     * Drops every connection logged in to {@code targetName}: an Async Message ({@code event}
     * {@code CONNECTION_DROPPED} or {@code SESSION_DROPPED}) names the Time2Wait the initiator
     * must wait before it logs in again and the Time2Retain, then the connection closes (RFC 7143
     * §11.9.1): an administrator's reset of the sessions.
     *
     * @return how many connections were dropped
     * @throws IllegalArgumentException for another event, or times outside 0-3600 s
     */
    public int dropConnections(String targetName, AsyncMessage.Event event, int time2Wait, int time2Retain) {
        Objects.requireNonNull(targetName, "targetName");
        if (event != AsyncMessage.Event.CONNECTION_DROPPED && event != AsyncMessage.Event.SESSION_DROPPED) {
            throw new IllegalArgumentException("a drop is CONNECTION_DROPPED or SESSION_DROPPED, not " + event);
        }
        requireSeconds("Time2Wait", time2Wait);
        requireSeconds("Time2Retain", time2Retain);
        return server.drop(targetName, event, time2Wait, time2Retain);
    }

    /**
     * For tests of an initiator: the next {@code count} logouts are answered "cleanup failed"
     * with {@code time2Wait}, and the session stays. No real target refuses a logout on demand.
     */
    public void refuseLogouts(int count, int time2Wait) {
        if (count < 0) {
            throw new IllegalArgumentException("count must not be negative: " + count);
        }
        requireSeconds("Time2Wait", time2Wait);
        server.refuseLogouts(count, time2Wait);
    }

    /** RFC 7143 §13.15-16: Time2Wait and Time2Retain are 0-3600 s. */
    private static void requireSeconds(String what, int seconds) {
        if (seconds < 0 || seconds > 3600) {
            throw new IllegalArgumentException(what + " must be 0-3600 s, was " + seconds);
        }
    }

    /** Sessions now logged in (discovery sessions included). */
    public int sessionCount() {
        return server.sessionCount();
    }

    /**
     * Asks logged-in initiators to log out (waiting at most the logout grace period), then stops
     * everything and releases LUN memory and files. Idempotent.
     */
    @Override
    public void close() {
        server.close();
    }

    /** Why a file could not be opened, in words: NoSuchFileException's message is only the path. */
    private static String reason(IOException e) {
        return switch (e) {
            case java.nio.file.NoSuchFileException n -> "no such file or folder";
            case java.nio.file.AccessDeniedException a -> "permission denied";
            case java.nio.file.FileSystemException f when f.getReason() != null -> f.getReason();
            default -> String.valueOf(e.getMessage());
        };
    }

    /** Collects portals, targets and settings; {@link #build()} opens the LUN stores. */
    public static final class Builder {

        private final List<TargetServer.PortalSpec> portals = new ArrayList<>();
        private final Map<String, TargetDefinition> targets = new LinkedHashMap<>();
        private TargetServer.Settings settings = TargetServer.Settings.defaults();

        private Builder() {
        }

        /** Listens for iSCSI over TCP on {@code host} (name or address) and {@code port}, 0 for any free port. */
        public Builder portal(String host, int port) {
            Objects.requireNonNull(host, "host");
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port must be in 0..65535, not " + port);
            }
            portals.add(new TargetServer.PortalSpec(host, port));
            return this;
        }

        /**
         * Listens for iSER (iSCSI over RDMA, RFC 7145) on {@code host} and {@code port} (0 for any
         * free port) of the given RDMA provider: {@code RdmaProviders.byName("native")} for RDMA
         * hardware or Soft-RoCE, or a loopback fabric in tests.
         */
        public Builder iserPortal(String host, int port, RdmaProvider rdma) {
            Objects.requireNonNull(host, "host");
            Objects.requireNonNull(rdma, "rdma");
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port must be in 0..65535, not " + port);
            }
            portals.add(TargetServer.PortalSpec.iser(host, port, rdma));
            return this;
        }

        /** Defines a target node named {@code iqn} (iqn., eui. or naa. form); {@code config} adds its LUNs. */
        public Builder target(String iqn, Consumer<TargetDefinition> config) {
            Objects.requireNonNull(iqn, "iqn");
            if (!NAME.matcher(iqn).matches() || iqn.getBytes(StandardCharsets.UTF_8).length > 223) {
                throw new IllegalArgumentException("\"" + iqn + "\" is not an iSCSI name (RFC 7143 §4.2.7: "
                        + "iqn.yyyy-mm.reversed.domain[:name], eui. or naa. followed by hex digits)");
            }
            TargetDefinition definition = new TargetDefinition(iqn);
            config.accept(definition);
            if (targets.putIfAbsent(iqn, definition) != null) {
                throw new IllegalArgumentException("target " + iqn + " is defined twice");
            }
            return this;
        }

        /** Requires CHAP for discovery sessions too. */
        public Builder discoveryChap(ChapCredentials credentials) {
            settings = settings.withDiscoveryChap(Optional.of(credentials));
            return this;
        }

        /**
         * NOP-In pings: sent after {@code interval} without traffic (zero disables them); a ping
         * unanswered for {@code timeout} closes the connection.
         */
        public Builder nopIn(Duration interval, Duration timeout) {
            if (interval.isNegative() || timeout.isNegative() || (!interval.isZero() && timeout.isZero())) {
                throw new IllegalArgumentException("NOP-In interval and timeout must not be negative, and a ping "
                        + "needs a timeout: " + interval + ", " + timeout);
            }
            settings = settings.withNop(interval, timeout);
            return this;
        }

        /** How long a connection may take to complete login before it is closed (default 15 s). */
        public Builder loginTimeout(Duration timeout) {
            settings = settings.withLoginTimeout(timeout);
            return this;
        }

        /**
         * Connections accepted at once, logged in or not (default 1024), and from one IP address
         * (default 256); more are refused at accept, with one log line per 10 s saying how many.
         * A connection counts until everything it held is freed.
         */
        public Builder maxConnections(int total, int perAddress) {
            settings = settings.withConnectionLimits(total, perAddress);
            return this;
        }

        /**
         * How long a write may wait for its Data-Out (default 30 s, counted from the command or
         * its latest Data-Out); then it ends with CHECK CONDITION and its buffer is returned.
         */
        public Builder dataOutTimeout(Duration timeout) {
            settings = settings.withDataOutTimeout(timeout);
            return this;
        }

        /**
         * Write data the target buffers at once for all its connections (default 1 GiB), and the
         * fraction of it one connection (one session) may hold, in (0, 1] (default 0.25: one
         * session's writes, even whose data never comes, leave the rest to the others). A
         * command whose data would go beyond either is answered TASK SET FULL, which initiators
         * retry; a write larger than the share (rounded up to a power of two) is never taken.
         *
         * @throws IllegalArgumentException if the budget is under 4096 bytes (the smallest write
         *                                  buffer), the share is not in (0, 1], or the share of
         *                                  the budget is under 4096 bytes
         */
        public Builder writeBudget(long bytes, double share) {
            settings = settings.withWriteBudget(bytes, share);
            return this;
        }

        /** How long {@link #close()} waits for initiators to log out after asking them to (zero: not at all). */
        public Builder logoutGrace(Duration grace) {
            if (grace.isNegative()) {
                throw new IllegalArgumentException("logout grace must not be negative: " + grace);
            }
            settings = settings.withLogoutGrace(grace);
            return this;
        }

        /** Opens every LUN's store; nothing listens until {@link IscsiTarget#start()}. */
        public IscsiTarget build() throws IOException {
            if (portals.isEmpty()) {
                throw new IllegalStateException("no portal: call portal(host, port)");
            }
            if (targets.isEmpty()) {
                throw new IllegalStateException("no target: call target(iqn, config)");
            }
            List<LogicalUnit> opened = new ArrayList<>();
            try {
                List<TargetNode> nodes = new ArrayList<>();
                for (TargetDefinition definition : targets.values()) {
                    if (definition.luns().isEmpty()) {
                        throw new IllegalStateException("target " + definition.name() + " has no LUN");
                    }
                    Map<Integer, LogicalUnit> units = new LinkedHashMap<>();
                    for (Map.Entry<Integer, LunSpec> e : definition.luns().entrySet()) {
                        LogicalUnit unit = open(definition.name(), e.getKey(), e.getValue());
                        opened.add(unit);
                        units.put(e.getKey(), unit);
                    }
                    nodes.add(new TargetNode(definition.name(), definition.alias(), units, definition.chapCredentials(),
                            definition.time2Wait(), definition.time2Retain()));
                }
                return new IscsiTarget(new TargetServer(nodes, portals, settings));
            } catch (IOException | RuntimeException e) {
                for (LogicalUnit unit : opened) {
                    try {
                        unit.close();
                    } catch (IOException closeFailure) {
                        e.addSuppressed(closeFailure);
                    }
                }
                throw e;
            }
        }

        private static LogicalUnit open(String target, int lun, LunSpec spec) throws IOException {
            BackingStore store;
            if (spec.file().isPresent()) {
                try {
                    store = new FileStore(spec.file().get(), spec.sizeBytes(), spec.blockSize(), spec.readOnly());
                } catch (IOException e) {
                    throw new IOException("LUN " + lun + " of " + target + ": cannot open " + spec.file().get() + ": "
                            + reason(e), e);
                }
            } else {
                try {
                    store = new RamStore(spec.sizeBytes(), spec.blockSize(), spec.readOnly());
                } catch (OutOfMemoryError e) {
                    // Off-heap memory is bounded by -XX:MaxDirectMemorySize (by default the heap's size).
                    throw new IOException("LUN " + lun + " of " + target + ": a RAM LUN of " + spec.sizeBytes()
                            + " bytes does not fit in this JVM's off-heap memory (" + e.getMessage()
                            + "); use a smaller size, a file LUN, or a larger -XX:MaxDirectMemorySize", e);
                }
            }
            UUID id = UUID.nameUUIDFromBytes((target + "#" + lun).getBytes(StandardCharsets.UTF_8));
            String serial = Long.toHexString(id.getMostSignificantBits() & Long.MAX_VALUE).toUpperCase();
            return new LogicalUnit(lun, store, serial, id.getLeastSignificantBits(), spec.physicalBlockExponent(),
                    spec.removable());
        }
    }
}
