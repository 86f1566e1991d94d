package io.ostia.transport.tcp.internal;

import aQute.bnd.annotation.Resolution;
import aQute.bnd.annotation.spi.ServiceProvider;
import io.ostia.api.TransportException;
import io.ostia.api.spi.ConnectionOwner;
import io.ostia.api.spi.IscsiTransport;
import io.ostia.api.spi.TransportCapability;
import io.ostia.api.spi.TransportConnection;
import io.ostia.api.spi.TransportEndpoint;
import io.ostia.transport.lifecycle.TransportLifecycle;
import io.ostia.transport.tcp.TcpTransportOptions;
import java.net.InetSocketAddress;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The TCP transport. Outside OSGi, {@link java.util.ServiceLoader} creates it with default
 * options through the public no-argument constructor; in OSGi the {@link TcpTransportComponent}
 * creates and registers it.
 *
 * <p>Its life (refusing connects when leaving, the lists of endpoints and connections, the
 * leaving order of {@link #close()}) is the shared {@link TransportLifecycle}'s; this class
 * adds the TCP endpoints and bindings. TCP releases synchronously, so it queues no release work.
 */
@ServiceProvider(value = IscsiTransport.class, resolution = Resolution.OPTIONAL)
public final class TcpTransport implements IscsiTransport {

    private static final Set<TransportCapability> CAPABILITIES = Collections.unmodifiableSet(
            EnumSet.of(TransportCapability.HEADER_DIGEST, TransportCapability.DATA_DIGEST));

    /** Read once by each connect and each binding, so a connection keeps the options it started with. */
    private volatile TcpTransportOptions options;
    private final TransportLifecycle lifecycle;

    /** For {@link java.util.ServiceLoader}: default options, nothing to do after leaving. */
    public TcpTransport() {
        this(TcpTransportOptions.defaults(), () -> { });
    }

    /**
     * @param afterLeaving the last step of leaving, run once everything is released (the OSGi
     *                     component unregisters its service there)
     */
    public TcpTransport(TcpTransportOptions options, Runnable afterLeaving) {
        this.options = Objects.requireNonNull(options, "options");
        this.lifecycle = new TransportLifecycle(this, "TCP", options.releaseTimeout(), afterLeaving);
    }

    @Override
    public String name() {
        return "tcp";
    }

    @Override
    public java.time.Duration releaseTimeout() {
        return options.releaseTimeout();
    }

    @Override
    public Set<TransportCapability> capabilities() {
        return CAPABILITIES;
    }

    @Override
    public TransportEndpoint connect(InetSocketAddress target) throws TransportException {
        Objects.requireNonNull(target, "target");
        String what = "connect to " + TcpEndpoint.describe(target);
        lifecycle.requireOpen(what);
        return lifecycle.admit(TcpEndpoint.open(this, target, options), what);
    }

    @Override
    public TransportConnection createConnection(ConnectionOwner owner, int queueDepth) throws TransportException {
        // A socket carries any number of tasks, and TCP reads segments of any length: nothing here is
        // sized by the queue depth, and the session's own login keys stand.
        return lifecycle.createConnection(owner, queueDepth, Map.of(),
                (endpoint, leading) -> Binding.bind(this, owner, endpoint, options));
    }

    /**
     * New options for connections made from now on; connections already up keep theirs, so
     * nothing is dropped. The release timeout applies to the next leave.
     */
    void reconfigure(TcpTransportOptions next) {
        Objects.requireNonNull(next, "options");
        lifecycle.releaseTimeout(next.releaseTimeout());
        options = next;
    }

    @Override
    public void close() {
        lifecycle.leave();
    }

    void endpointReleased(TcpEndpoint endpoint) {
        lifecycle.endpointReleased(endpoint);
    }

    /** For tests: endpoints not yet released. */
    int openEndpoints() {
        return lifecycle.openEndpoints();
    }

    @Override
    public String toString() {
        return lifecycle.toString();
    }
}
