package io.ostia.transport.tcp.internal;

import aQute.bnd.annotation.Resolution;
import aQute.bnd.annotation.spi.ServiceProvider;
import io.ostia.api.TransportException;
import io.ostia.api.spi.ConnectionOwner;
import io.ostia.api.spi.IscsiTransport;
import io.ostia.api.spi.TransportCapability;
import io.ostia.api.spi.TransportConnection;
import io.ostia.api.spi.TransportEndpoint;
import io.ostia.transport.tcp.TcpTransportOptions;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The TCP transport. Outside OSGi, {@link java.util.ServiceLoader} creates it with default
 * options through the public no-argument constructor; in OSGi the {@link TcpTransportComponent}
 * creates and registers it.
 *
 * <p>{@link #close()} is module exit, in the order the SPI promises: refuse new connects, tell
 * the owners of bound connections, wait (bounded) for them to release, force-release what is
 * left with an error log naming each, and only then run the leave action (the OSGi
 * unregistration).
 */
@ServiceProvider(value = IscsiTransport.class, resolution = Resolution.OPTIONAL)
public final class TcpTransport implements IscsiTransport {

    private static final System.Logger LOG = System.getLogger(TcpTransport.class.getName());
    private static final Set<TransportCapability> CAPABILITIES = Collections.unmodifiableSet(
            EnumSet.of(TransportCapability.HEADER_DIGEST, TransportCapability.DATA_DIGEST));

    enum State {
        OPEN, LEAVING, CLOSED
    }

    private final TcpTransportOptions options;
    private final Runnable afterLeaving;
    private final AtomicReference<State> state = new AtomicReference<>(State.OPEN);
    private final CountDownLatch left = new CountDownLatch(1);
    private final Set<TcpEndpoint> endpoints = ConcurrentHashMap.newKeySet();
    private final Set<TcpConnection> connections = ConcurrentHashMap.newKeySet();
    /** Notified whenever a connection unbinds or an endpoint is released, for the drain. */
    private final Object releases = new Object();

    /** For {@link java.util.ServiceLoader}: default options, nothing to do after leaving. */
    public TcpTransport() {
        this(TcpTransportOptions.defaults(), () -> { });
    }

    /**
     * @param afterLeaving step 5 of leaving, run once everything is released (the OSGi
     *                     component unregisters its service there)
     */
    public TcpTransport(TcpTransportOptions options, Runnable afterLeaving) {
        this.options = Objects.requireNonNull(options, "options");
        this.afterLeaving = Objects.requireNonNull(afterLeaving, "afterLeaving");
    }

    @Override
    public String name() {
        return "tcp";
    }

    @Override
    public Set<TransportCapability> capabilities() {
        return CAPABILITIES;
    }

    @Override
    public TransportEndpoint connect(InetSocketAddress target) throws TransportException {
        Objects.requireNonNull(target, "target");
        requireOpen("connect to " + TcpEndpoint.describe(target));
        TcpEndpoint endpoint = TcpEndpoint.open(this, target, options);
        endpoints.add(endpoint);
        if (state.get() != State.OPEN) {
            // close() began between the check and the add and may not have seen this endpoint.
            endpoint.disconnect();
            requireOpen("connect to " + TcpEndpoint.describe(target));
        }
        return endpoint;
    }

    @Override
    public TransportConnection createConnection(ConnectionOwner owner, int queueDepth) throws TransportException {
        Objects.requireNonNull(owner, "owner");
        if (queueDepth < 1) {
            throw new IllegalArgumentException("queue depth " + queueDepth + " is less than 1");
        }
        // A socket carries any number of tasks: nothing here is sized by the queue depth.
        requireOpen("create a connection");
        TcpConnection connection = new TcpConnection(this, owner, options);
        connections.add(connection);
        return connection;
    }

    private void requireOpen(String what) throws TransportException {
        State current = state.get();
        if (current != State.OPEN) {
            throw new TransportException("cannot " + what + ": the TCP transport is "
                    + (current == State.LEAVING ? "leaving" : "closed"));
        }
    }

    @Override
    public void close() {
        if (!state.compareAndSet(State.OPEN, State.LEAVING)) {
            awaitLeft();
            return;
        }
        try {
            LOG.log(Level.INFO, "TCP transport leaving: new connects are refused");
            notifyOwners();
            drain();
            forceRelease();
        } finally {
            state.set(State.CLOSED);
            try {
                afterLeaving.run();
            } finally {
                left.countDown();
            }
        }
    }

    /** Step 2: every owner of a bound connection hears that the transport is leaving. */
    private void notifyOwners() {
        for (TcpConnection connection : connections) {
            if (!connection.isBound()) {
                continue;
            }
            try {
                connection.owner().transportLeaving(this);
            } catch (RuntimeException e) {
                LOG.log(Level.ERROR, "the owner of " + connection + " threw from transportLeaving", e);
            }
        }
    }

    /** Step 3: wait, at most the release timeout, until no connection is bound. */
    private void drain() {
        long deadline = System.nanoTime() + options.releaseTimeout().toNanos();
        synchronized (releases) {
            while (anyBound()) {
                long remaining = deadline - System.nanoTime();
                if (remaining <= 0) {
                    return;
                }
                try {
                    TimeUnit.NANOSECONDS.timedWait(releases, remaining);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    LOG.log(Level.ERROR, "interrupted while waiting for connections to be released; "
                            + "force-releasing them now", e);
                    return;
                }
            }
        }
    }

    private boolean anyBound() {
        for (TcpConnection connection : connections) {
            if (connection.isBound()) {
                return true;
            }
        }
        return false;
    }

    /** Step 4: what is still bound or open is released now, each named in an error log. */
    private void forceRelease() {
        for (TcpConnection connection : new ArrayList<>(connections)) {
            if (connection.isBound()) {
                LOG.log(Level.ERROR, "force-releasing " + connection + ": still bound "
                        + options.releaseTimeout().toMillis() + " ms after the transport began leaving");
                connection.forceRelease(new TransportException("the TCP transport left and released " + connection
                        + " because its owner had not stopped it within " + options.releaseTimeout().toMillis()
                        + " ms"));
            }
        }
        List<TcpEndpoint> open = new ArrayList<>(endpoints);
        for (TcpEndpoint endpoint : open) {
            LOG.log(Level.ERROR, "force-releasing the endpoint " + endpoint
                    + ": it was never disconnected before the TCP transport left");
            endpoint.disconnect();
        }
        endpoints.clear();
    }

    private void awaitLeft() {
        try {
            // Whoever is closing is bounded by the release timeout per step; wait as long as that.
            if (!left.await(3 * options.releaseTimeout().toNanos(), TimeUnit.NANOSECONDS)) {
                LOG.log(Level.ERROR, "the TCP transport did not finish leaving in another thread within "
                        + 3 * options.releaseTimeout().toMillis() + " ms");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            LOG.log(Level.ERROR, "interrupted while waiting for the TCP transport to leave", e);
        }
    }

    void connectionUnbound(TcpConnection connection) {
        signalRelease();
    }

    void connectionDestroyed(TcpConnection connection) {
        connections.remove(connection);
        signalRelease();
    }

    void endpointReleased(TcpEndpoint endpoint) {
        endpoints.remove(endpoint);
        signalRelease();
    }

    private void signalRelease() {
        synchronized (releases) {
            releases.notifyAll();
        }
    }

    /** For tests: endpoints not yet released. */
    int openEndpoints() {
        return endpoints.size();
    }

    @Override
    public String toString() {
        return "TCP transport (" + state.get().name().toLowerCase() + ")";
    }
}
