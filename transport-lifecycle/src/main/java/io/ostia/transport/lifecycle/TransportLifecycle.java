package io.ostia.transport.lifecycle;

import io.ostia.api.TransportException;
import io.ostia.api.spi.ConnectionOwner;
import io.ostia.api.spi.IscsiTransport;
import io.ostia.api.spi.TransportEndpoint;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A transport's module init and exit, the same for every transport: the lists of endpoints and
 * connections, the {@link ReleaseQueue}, and {@link #leave()}, which keeps the order that
 * {@link IscsiTransport} promises.
 *
 * <h2>How a transport uses it</h2>
 * <ul>
 *   <li>{@code connect}: {@link #requireOpen} first, then {@link #admit} the new endpoint; the
 *       endpoint calls {@link #endpointReleased} once its resources are freed (on the spot, at
 *       its connection's stop, or from release work).</li>
 *   <li>{@code createConnection}: {@link #createConnection} with the transport's
 *       {@link ConnectionBinder}; the state machine is {@link LifecycleConnection}'s.</li>
 *   <li>release work that must wait (iSER) goes to {@link #releaseQueue()}.</li>
 *   <li>{@code close}: {@link #leave()}.</li>
 * </ul>
 *
 * <h2>Leaving (module exit)</h2>
 * <ol>
 *   <li>OPEN becomes LEAVING: {@link #requireOpen} refuses connects and new connections;</li>
 *   <li>the owner of every bound connection hears {@link ConnectionOwner#transportLeaving};</li>
 *   <li>drain: wait, at most the release timeout, until no connection is bound and the release
 *       queue is idle;</li>
 *   <li>force-release: each connection still bound is failed to its owner and stopped, each
 *       endpoint still open (half-connected ones too) is disconnected, each named in an error
 *       log; then the release queue is waited for once more (bounded) and its thread ends;</li>
 *   <li>CLOSED, and the leave action runs last (the OSGi component unregisters its service).</li>
 * </ol>
 * A second {@link #leave()} waits (bounded) for the first to finish and does nothing else.
 */
public final class TransportLifecycle {

    private static final System.Logger LOG = System.getLogger(TransportLifecycle.class.getName());

    /** Where the transport is in its life. */
    public enum State {
        OPEN, LEAVING, CLOSED
    }

    private final IscsiTransport transport;
    private final String displayName;
    /** Replaced by {@link #releaseTimeout(Duration)} when the transport is reconfigured; read as leaving starts. */
    private volatile Duration releaseTimeout;
    private final Runnable afterLeaving;
    private final AtomicReference<State> state = new AtomicReference<>(State.OPEN);
    private final CountDownLatch left = new CountDownLatch(1);
    private final Set<TransportEndpoint> endpoints = ConcurrentHashMap.newKeySet();
    private final Set<LifecycleConnection> connections = ConcurrentHashMap.newKeySet();
    /** Notified whenever a connection unbinds, an endpoint is released or release work ends. */
    private final Object releases = new Object();
    private final ReleaseQueue releaseQueue;

    /**
     * @param transport      the transport whose life this is, as owners are told it leaves
     * @param displayName    the transport's name in messages ("TCP", "iSER")
     * @param releaseTimeout how long the drain waits, and again the release queue after
     *                       force-release
     * @param afterLeaving   the last step of leaving (the OSGi component unregisters there)
     */
    public TransportLifecycle(IscsiTransport transport, String displayName, Duration releaseTimeout,
            Runnable afterLeaving) {
        this.transport = Objects.requireNonNull(transport, "transport");
        this.displayName = Objects.requireNonNull(displayName, "displayName");
        releaseTimeout(releaseTimeout);
        this.afterLeaving = Objects.requireNonNull(afterLeaving, "afterLeaving");
        this.releaseQueue = new ReleaseQueue("ostia-" + transport.name() + "-release", this::signalRelease);
    }

    /** A new release timeout, for a leave that has not started yet (a reconfigured transport). */
    public void releaseTimeout(Duration timeout) {
        Objects.requireNonNull(timeout, "releaseTimeout");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("the release timeout must be positive, not " + timeout);
        }
        this.releaseTimeout = timeout;
    }

    /** Throws, naming {@code what} was refused, unless the transport is open. */
    public void requireOpen(String what) throws TransportException {
        State current = state.get();
        if (current != State.OPEN) {
            throw new TransportException("cannot " + what + ": the " + displayName + " transport is "
                    + (current == State.LEAVING ? "leaving" : "closed"));
        }
    }

    /**
     * Lists a new endpoint so that leaving can force-release it. If leaving began meanwhile
     * (it may not have seen the endpoint), the endpoint is disconnected and {@code what}
     * refused.
     */
    public <E extends TransportEndpoint> E admit(E endpoint, String what) throws TransportException {
        endpoints.add(endpoint);
        if (state.get() != State.OPEN) {
            endpoint.disconnect();
            requireOpen(what);
        }
        return endpoint;
    }

    /**
     * A connection for {@code owner}, refused unless the transport is open.
     *
     * @param queueDepth the session's tasks in flight, as {@link IscsiTransport#createConnection} got it
     * @param loginKeys  what the connection's {@code loginKeys()} answers: the transport's keys and limits
     * @throws IllegalArgumentException {@code queueDepth} is less than 1
     */
    public LifecycleConnection createConnection(ConnectionOwner owner, int queueDepth, Map<String, String> loginKeys,
            ConnectionBinder binder) throws TransportException {
        Objects.requireNonNull(owner, "owner");
        Objects.requireNonNull(binder, "binder");
        if (queueDepth < 1) {
            throw new IllegalArgumentException("queue depth " + queueDepth + " is less than 1");
        }
        requireOpen("create a connection");
        LifecycleConnection connection = new LifecycleConnection(this, owner, Map.copyOf(loginKeys), binder);
        connections.add(connection);
        return connection;
    }

    /** The endpoint's resources are freed: it is no longer the drain's concern. */
    public void endpointReleased(TransportEndpoint endpoint) {
        endpoints.remove(endpoint);
        signalRelease();
    }

    /** Where a transport queues release work that must wait; leaving drains it. */
    public ReleaseQueue releaseQueue() {
        return releaseQueue;
    }

    public State state() {
        return state.get();
    }

    /** Endpoints not yet released, for tests and diagnostics. */
    public int openEndpoints() {
        return endpoints.size();
    }

    /** Module exit, in the order described above. Idempotent. */
    public void leave() {
        if (!state.compareAndSet(State.OPEN, State.LEAVING)) {
            awaitLeft();
            return;
        }
        try {
            LOG.log(Level.INFO, displayName + " transport leaving: new connects are refused");
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
        for (LifecycleConnection connection : connections) {
            if (!connection.isBound()) {
                continue;
            }
            try {
                connection.owner().transportLeaving(transport);
            } catch (RuntimeException e) {
                LOG.log(Level.ERROR, "the owner of " + connection + " threw from transportLeaving", e);
            }
        }
    }

    /** Step 3: wait, at most the release timeout, until no connection is bound and no release is queued. */
    private void drain() {
        long deadline = System.nanoTime() + releaseTimeout.toNanos();
        synchronized (releases) {
            while (anyBound() || !releaseQueue.isIdle()) {
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
        for (LifecycleConnection connection : connections) {
            if (connection.isBound()) {
                return true;
            }
        }
        return false;
    }

    /** Step 4: what is still bound or open is released now, each named in an error log. */
    private void forceRelease() {
        long timeoutMillis = releaseTimeout.toMillis();
        for (LifecycleConnection connection : new ArrayList<>(connections)) {
            if (connection.isBound()) {
                LOG.log(Level.ERROR, "force-releasing " + connection + ": still bound " + timeoutMillis
                        + " ms after the " + displayName + " transport began leaving");
                connection.forceRelease(new TransportException("the " + displayName + " transport left and released "
                        + connection + " because its owner had not stopped it within " + timeoutMillis + " ms"));
            }
        }
        for (TransportEndpoint endpoint : new ArrayList<>(endpoints)) {
            LOG.log(Level.ERROR, "force-releasing the endpoint " + endpoint
                    + ": it was never disconnected before the " + displayName + " transport left");
            endpoint.disconnect();
        }
        awaitReleaseQueue();
        endpoints.clear();
    }

    /** Release work that force-release queued, or that outlived the drain, finishes before the leave action. */
    private void awaitReleaseQueue() {
        try {
            List<String> unfinished = releaseQueue.awaitIdle(System.nanoTime() + releaseTimeout.toNanos());
            for (String what : unfinished) {
                LOG.log(Level.ERROR, "the " + what + " had not finished " + releaseTimeout.toMillis()
                        + " ms after force-release; the " + displayName + " transport leaves without it");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            LOG.log(Level.ERROR, "interrupted while waiting for the " + displayName + " transport's release queue", e);
        }
    }

    private void awaitLeft() {
        try {
            // Whoever is leaving is bounded by the release timeout per step; wait as long as that.
            if (!left.await(3 * releaseTimeout.toNanos(), TimeUnit.NANOSECONDS)) {
                LOG.log(Level.ERROR, "the " + displayName + " transport did not finish leaving in another thread within "
                        + 3 * releaseTimeout.toMillis() + " ms");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            LOG.log(Level.ERROR, "interrupted while waiting for the " + displayName + " transport to leave", e);
        }
    }

    void connectionUnbound(LifecycleConnection connection) {
        signalRelease();
    }

    void connectionDestroyed(LifecycleConnection connection) {
        connections.remove(connection);
        signalRelease();
    }

    private void signalRelease() {
        synchronized (releases) {
            releases.notifyAll();
        }
    }

    String displayName() {
        return displayName;
    }

    Duration releaseTimeout() {
        return releaseTimeout;
    }

    @Override
    public String toString() {
        return displayName + " transport (" + state.get().name().toLowerCase(Locale.ROOT) + ")";
    }
}
