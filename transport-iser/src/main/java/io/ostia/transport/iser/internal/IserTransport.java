package io.ostia.transport.iser.internal;

import aQute.bnd.annotation.Resolution;
import aQute.bnd.annotation.spi.ServiceProvider;
import io.ostia.api.TransportException;
import io.ostia.api.spi.ConnectionOwner;
import io.ostia.api.spi.IscsiTransport;
import io.ostia.api.spi.TransportCapability;
import io.ostia.api.spi.TransportConnection;
import io.ostia.api.spi.TransportEndpoint;
import io.ostia.api.text.Keys;
import io.ostia.rdma.CmEvent;
import io.ostia.rdma.CmEventChannel;
import io.ostia.rdma.CmId;
import io.ostia.rdma.RdmaException;
import io.ostia.rdma.RdmaProvider;
import io.ostia.rdma.RdmaProviders;
import io.ostia.transport.iser.IserTransportOptions;
import io.ostia.transport.lifecycle.ReleaseQueue;
import io.ostia.transport.lifecycle.TransportLifecycle;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The iSER transport: module init is the constructor (the shared lifecycle with its release queue
 * and connection list, then the provider probe, which opens the CM event channel), module exit is
 * {@link #close()} (the shared leaving order, then the channel closes, then the leave action).
 * Outside OSGi, {@link java.util.ServiceLoader} creates it with {@link
 * IserTransportOptions#defaults()} through the no-argument constructor; there a missing device
 * does not fail the construction (it would fail every provider lookup) but every connect, naming why.
 *
 * <h2>Threads</h2>
 * The CM event thread (the channel's) runs {@link IserEndpoint#onCmEvent}; each endpoint has a
 * completion thread from route resolution to release; the release queue's thread runs releases.
 */
@ServiceProvider(value = IscsiTransport.class, resolution = Resolution.OPTIONAL)
public final class IserTransport implements IscsiTransport {

    private static final System.Logger LOG = System.getLogger(IserTransport.class.getName());
    private static final Set<TransportCapability> CAPABILITIES = Set.of(TransportCapability.RDMA_EXTENSIONS);

    /** Replaced whole by {@link #reconfigure}; a connection reads it once, when it starts. */
    private volatile IserTransportOptions options;
    private final TransportLifecycle lifecycle;
    private final Map<CmId, IserEndpoint> endpoints = new ConcurrentHashMap<>();
    private final Map<String, String> loginKeys;
    private final CmEventChannel channel;
    private final RuntimeException unavailable;

    /** For {@link java.util.ServiceLoader}: default options, the provider {@link IserTransportOptions#PROVIDER_PROPERTY} names. */
    public IserTransport() {
        this(IserTransportOptions.defaults().withProvider(System.getProperty(IserTransportOptions.PROVIDER_PROPERTY,
                RdmaProviders.NATIVE)),
                () -> { }, false);
    }

    /**
     * Module init, for the OSGi component and tests.
     *
     * @param afterLeaving the last step of leaving (the component unregisters its service there)
     * @throws RdmaException the provider is unavailable or has no device; nothing is left open
     */
    public IserTransport(IserTransportOptions options, Runnable afterLeaving) {
        this(options, afterLeaving, true);
    }

    private IserTransport(IserTransportOptions options, Runnable afterLeaving, boolean strict) {
        this.options = Objects.requireNonNull(options, "options");
        Objects.requireNonNull(afterLeaving, "afterLeaving");
        this.lifecycle = new TransportLifecycle(this, "iSER", options.releaseTimeout(), () -> {
            closeChannel();
            afterLeaving.run();
        });
        this.loginKeys = loginKeys(options);
        CmEventChannel opened = null;
        RuntimeException why = null;
        try {
            opened = probe(options.provider()).createEventChannel(this::onCmEvent);
        } catch (RuntimeException e) {
            if (strict) {
                throw e;
            }
            why = e;
        }
        this.channel = opened;
        this.unavailable = why;
    }

    /** The provider, if it is available and has a device. */
    private static RdmaProvider probe(String name) {
        RdmaProvider provider = RdmaProviders.byName(name);
        provider.ensureAvailability();
        if (provider.deviceNames().isEmpty()) {
            throw new RdmaException("RDMA provider '" + name + "' has no device: iSER needs one (for example a "
                    + "Soft-RoCE device: rdma link add rxe0 type rxe netdev eth0)");
        }
        return provider;
    }

    /**
     * What every connection declares: iSER-assisted mode, receives of the posted size, the
     * receives kept for unexpected PDUs, and InitialR2T=Yes, because this transport sends no
     * unsolicited Data-Out: the target fetches everything beyond immediate data by RDMA Read.
     */
    private static Map<String, String> loginKeys(IserTransportOptions options) {
        String receive = Integer.toString(options.receiveDataSegmentLength());
        return Map.of(Keys.RDMA_EXTENSIONS, Keys.YES, Keys.INITIATOR_RECV_DATA_SEGMENT_LENGTH, receive,
                Keys.MAX_RECV_DATA_SEGMENT_LENGTH, receive,
                Keys.MAX_OUTSTANDING_UNEXPECTED_PDUS, Integer.toString(options.maxUnexpectedPdus()),
                Keys.INITIAL_R2T, Keys.YES);
    }

    @Override
    public String name() {
        return "iser";
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
        String what = "connect to " + IserEndpoint.describe(target);
        lifecycle.requireOpen(what);
        if (channel == null) {
            throw new TransportException("cannot " + what + ": " + unavailable.getMessage(), unavailable);
        }
        CmId id;
        try {
            id = channel.createId();
        } catch (RuntimeException e) {
            throw new TransportException("cannot " + what + ": " + e.getMessage(), e);
        }
        IserEndpoint endpoint = new IserEndpoint(this, target, options, id);
        endpoints.put(id, endpoint);
        lifecycle.admit(endpoint, what); // if leaving began meanwhile, this releases the endpoint and its id
        try {
            endpoint.start();
        } catch (RuntimeException e) {
            endpoint.disconnect();
            throw new TransportException("cannot " + what + ": " + e.getMessage(), e);
        }
        return endpoint;
    }

    @Override
    public TransportConnection createConnection(ConnectionOwner owner, int queueDepth) throws TransportException {
        IserTransportOptions o = options;
        if (queueDepth > o.maxQueueDepth()) {
            throw new IllegalArgumentException("queue depth " + queueDepth + " exceeds the iSER transport's "
                    + o.maxQueueDepth() + " (maxQueueDepth sizes its queue pairs)");
        }
        return lifecycle.createConnection(owner, queueDepth, loginKeys,
                (endpoint, leading) -> IserBinding.bind(this, owner, endpoint, queueDepth, o));
    }

    /**
     * Applies new timeouts in place (the component's {@code @Modified}): connections made
     * afterwards take them, connections up keep theirs, no session moves. The provider and the
     * sizes that shape queue pairs, receives and the declared login keys are fixed for the
     * transport's life: changing them takes a restart of the transport.
     *
     * @throws IllegalArgumentException {@code next} changes one of those, named
     */
    void reconfigure(IserTransportOptions next) {
        Objects.requireNonNull(next, "options");
        IserTransportOptions now = options;
        List<String> fixed = new ArrayList<>();
        if (!next.provider().equals(now.provider())) {
            fixed.add("provider " + now.provider() + " -> " + next.provider());
        }
        if (next.maxQueueDepth() != now.maxQueueDepth()) {
            fixed.add("maxQueueDepth " + now.maxQueueDepth() + " -> " + next.maxQueueDepth());
        }
        if (next.receiveDataSegmentLength() != now.receiveDataSegmentLength()) {
            fixed.add("receiveDataSegmentLength " + now.receiveDataSegmentLength() + " -> " + next.receiveDataSegmentLength());
        }
        if (next.maxUnexpectedPdus() != now.maxUnexpectedPdus()) {
            fixed.add("maxUnexpectedPdus " + now.maxUnexpectedPdus() + " -> " + next.maxUnexpectedPdus());
        }
        if (!fixed.isEmpty()) {
            throw new IllegalArgumentException("the iSER transport cannot change " + String.join(", ", fixed)
                    + " while it runs: restart its bundle (its sessions move to another transport meanwhile)");
        }
        lifecycle.releaseTimeout(next.releaseTimeout());
        options = next;
    }

    @Override
    public void close() {
        lifecycle.leave();
    }

    /** Why the transport cannot connect, or null when it can. */
    public Throwable unavailabilityCause() {
        return unavailable;
    }

    private void onCmEvent(CmEvent event) {
        IserEndpoint endpoint = endpoints.get(event.id());
        if (endpoint == null) {
            LOG.log(Level.DEBUG, () -> "an event for an id no endpoint owns: " + event);
            return;
        }
        endpoint.onCmEvent(event);
    }

    boolean owns(IserEndpoint endpoint) {
        return endpoint.transport() == this;
    }

    ReleaseQueue releaseQueue() {
        return lifecycle.releaseQueue();
    }

    void endpointReleased(IserEndpoint endpoint, CmId id) {
        if (id != null) {
            endpoints.remove(id);
        }
        lifecycle.endpointReleased(endpoint);
    }

    /** The leave action's first step: every id is closed by now, unless a release timed out. */
    private void closeChannel() {
        if (channel == null) {
            return;
        }
        try {
            channel.close();
        } catch (RuntimeException e) {
            LOG.log(Level.ERROR, "the iSER transport left with RDMA objects still open: " + e.getMessage(), e);
        }
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
