package io.ostia.transport.tcp.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ostia.api.TransportException;
import io.ostia.api.pdu.LoginRequest;
import io.ostia.api.pdu.LoginResponse;
import io.ostia.api.pdu.LoginStage;
import io.ostia.api.pdu.Pdu;
import io.ostia.api.spi.StopMode;
import io.ostia.api.spi.TransportConnection;
import io.ostia.api.spi.TransportEndpoint;
import io.ostia.transport.tcp.TcpTransportOptions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The transport's leaving order (module exit, the same from close() and from the OSGi
 * deactivation): refuse connects, tell owners, drain, force-release, then the leave action.
 */
class TcpTransportLeavingTest extends FakeTargetTestBase {

    private static final Duration RELEASE_TIMEOUT = Duration.ofMillis(500);

    private final List<String> events = new CopyOnWriteArrayList<>();
    private final AtomicInteger leaveActions = new AtomicInteger();
    @Override
    TcpTransport newTransport() {
        return new TcpTransport(TcpTransportOptions.defaults().withReleaseTimeout(RELEASE_TIMEOUT), () -> {
            leaveActions.incrementAndGet();
            events.add("unregistered");
        });
    }

    @AfterEach
    void leaveActionRanOnce() {
        transport.close(); // idempotent: the base class closes again
        assertEquals(1, leaveActions.get(), "the leave action ran exactly once");
    }

    @Test
    void anOwnerThatMovesAwayIsToldFirstAndNotForceReleased() throws Exception {
        FakeSession session = FakeSession.started(transport, target);
        List<String> connectDuringLeave = new CopyOnWriteArrayList<>();
        session.owner.onLeaving = leaving -> {
            events.add("leaving");
            try {
                transport.connect(target.address());
                connectDuringLeave.add("accepted");
            } catch (java.io.IOException e) {
                connectDuringLeave.add(e.getMessage());
            }
            // A session moves away asynchronously: logout, disconnect, stop, destroy.
            Thread.ofPlatform().start(() -> {
                events.add("owner stopping");
                session.endpoint.disconnect();
                session.connection.stop(StopMode.TERMINATE);
                session.connection.destroy();
            });
        };
        long start = System.nanoTime();
        transport.close();
        long tookMillis = (System.nanoTime() - start) / 1_000_000;
        assertEquals(List.of("leaving", "owner stopping", "unregistered"), events);
        assertTrue(tookMillis < RELEASE_TIMEOUT.toMillis(), "no wait for the release timeout: " + tookMillis + " ms");
        assertEquals(1, connectDuringLeave.size());
        assertTrue(connectDuringLeave.getFirst().contains("leaving"), connectDuringLeave::toString);
        assertTrue(session.owner.failures.isEmpty(), () -> "no failure: " + session.owner.failures);
        TransportException closed = assertThrows(TransportException.class, () -> transport.connect(target.address()));
        assertTrue(closed.getMessage().contains("closed"), closed.getMessage());
        assertThrows(TransportException.class, () -> transport.createConnection(new RecordingOwner(), 32));
    }

    @Test
    void anOwnerThatStaysIsForceReleasedAfterTheReleaseTimeout() throws Exception {
        FakeSession session = FakeSession.started(transport, target);
        session.owner.onLeaving = leaving -> events.add("leaving");
        session.owner.onFailure = cause -> events.add("failed: " + cause.getMessage());
        long start = System.nanoTime();
        transport.close();
        long tookMillis = (System.nanoTime() - start) / 1_000_000;
        assertEquals(3, events.size(), events::toString);
        assertEquals("leaving", events.get(0));
        assertTrue(events.get(1).startsWith("failed: the TCP transport left"), events::toString);
        assertEquals("unregistered", events.get(2));
        assertTrue(tookMillis >= RELEASE_TIMEOUT.toMillis(), "waited for the owner: " + tookMillis + " ms");
        assertEquals(receiveThreadsBefore(), Leaks.receiveThreads(), "the receive thread ended before unregistration");
        // The owner's late teardown is harmless.
        session.endpoint.disconnect();
        session.connection.stop(StopMode.RECOVER);
        session.connection.destroy();
        assertEquals(1, session.owner.failures.size());
    }

    @Test
    void closingTwiceRunsTheLeaveActionOnce() {
        transport.close();
        transport.close();
        assertEquals(List.of("unregistered"), events);
    }
}
