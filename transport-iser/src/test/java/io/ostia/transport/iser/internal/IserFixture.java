package io.ostia.transport.iser.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ostia.api.pdu.LoginRequest;
import io.ostia.api.pdu.LoginResponse;
import io.ostia.api.pdu.LoginStage;
import io.ostia.api.spi.TransportConnection;
import io.ostia.api.spi.TransportEndpoint;
import io.ostia.api.text.NegotiatedParameters;
import io.ostia.rdma.RdmaProviders;
import io.ostia.rdma.loopback.LoopbackFabric;
import io.ostia.transport.iser.IserTransportOptions;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An iSER transport on the JVM's loopback fabric and a {@link IserTestPeer}, for one test; closing
 * it leaves the transport and checks that every RDMA object, endpoint and iSER thread is gone.
 */
final class IserFixture implements AutoCloseable {

    static final Duration WAIT = Duration.ofSeconds(5);

    final LoopbackFabric fabric = (LoopbackFabric) RdmaProviders.byName(RdmaProviders.LOOPBACK);
    final IserTransport transport;
    /** The order of the test's events; the leave action notes "unregistered". */
    final Journal journal = new Journal();
    private final AtomicInteger unregistered = new AtomicInteger();
    private final List<String> objectsBefore = fabric.openObjects();
    /** Set by the test: the peer closes with the fixture. */
    IserTestPeer peer;
    /** More peers of the test, closed with the fixture. */
    final List<IserTestPeer> peers = new java.util.concurrent.CopyOnWriteArrayList<>();

    IserFixture(Duration releaseTimeout) {
        transport = new IserTransport(IserTransportOptions.defaults().withProvider(RdmaProviders.LOOPBACK)
                .withReleaseTimeout(releaseTimeout), () -> {
                    unregistered.incrementAndGet();
                    journal.note("unregistered");
                });
    }

    /** An endpoint to the peer, accepted and polled up. */
    TransportEndpoint connected() throws Exception {
        return connected(peer);
    }

    /** An endpoint to {@code target}, accepted and polled up. */
    TransportEndpoint connected(IserTestPeer target) throws Exception {
        TransportEndpoint endpoint = transport.connect(target.address());
        target.acceptNext();
        assertTrue(endpoint.poll(WAIT), "up within " + WAIT);
        return endpoint;
    }

    /** A connection of {@code owner} bound to {@code endpoint}, one Login Request answered. */
    TransportConnection loggedIn(RecordingOwner owner, TransportEndpoint endpoint, int queueDepth) throws Exception {
        TransportConnection connection = transport.createConnection(owner, queueDepth);
        connection.bind(endpoint, true);
        connection.sendPdu(login());
        assertInstanceOf(LoginResponse.class, owner.next());
        return connection;
    }

    /** What a login with an iSER target negotiates: no digests, RDMAExtensions=Yes, 8 KiB segments. */
    static NegotiatedParameters iserParameters() {
        NegotiatedParameters d = NegotiatedParameters.DEFAULTS;
        return new NegotiatedParameters(false, false, 8192, 8192, d.maxBurstLength(), 4096, true, true, 1, true,
                true, 0, 2, 0, 1, true, 8192, 8192, 4, 4, 1);
    }

    /** {@link #loggedIn}, then the negotiated parameters and start: in full-feature phase. */
    TransportConnection started(RecordingOwner owner, TransportEndpoint endpoint, int queueDepth) throws Exception {
        TransportConnection connection = loggedIn(owner, endpoint, queueDepth);
        connection.setParameters(iserParameters());
        connection.start();
        return connection;
    }

    static LoginRequest login() {
        return new LoginRequest(true, false, LoginStage.LOGIN_OPERATIONAL_NEGOTIATION, LoginStage.FULL_FEATURE_PHASE,
                0, 0, 0x23d000000001L, 0, 0, 0, 1, 0,
                MemorySegment.ofArray("RDMAExtensions=Yes\0".getBytes(StandardCharsets.US_ASCII)));
    }

    void awaitReleased() throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (transport.openEndpoints() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertEquals(0, transport.openEndpoints(), "every endpoint released");
    }

    @Override
    public void close() throws Exception {
        fabric.discardCmEvents(java.util.Set.of());
        fabric.releaseCmEvents(false);
        fabric.clearCompletionFaults();
        fabric.releaseCompletions(false);
        try {
            transport.close();
        } finally {
            journal.close();
        }
        if (peer != null) {
            peer.close();
        }
        for (IserTestPeer more : peers) {
            more.close();
        }
        assertEquals(1, unregistered.get(), "the leave action ran once");
        assertEquals(objectsBefore, fabric.openObjects(), "every RDMA object the test made is closed");
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline && !iserThreads().isEmpty()) {
            Thread.sleep(10);
        }
        assertEquals(List.of(), iserThreads(), "no iSER thread outlives its connection");
    }

    private static List<String> iserThreads() {
        return Thread.getAllStackTraces().keySet().stream().map(Thread::getName)
                .filter(name -> name.startsWith("ostia-iser")).toList();
    }
}
