package io.ostia.transport.iser;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ostia.api.FailbackPolicy;
import io.ostia.api.Session;
import io.ostia.api.SessionEvent;
import io.ostia.api.SessionEvent.MoveReason;
import io.ostia.api.SessionOptions;
import io.ostia.api.TransportException;
import io.ostia.api.spi.IscsiTransport;
import io.ostia.initiator.ClosableInitiator;
import io.ostia.initiator.Initiators;
import io.ostia.initiator.SessionEventQueue;
import io.ostia.initiator.WriteVerifyLoad;
import io.ostia.rdma.RdmaProvider;
import io.ostia.rdma.RdmaProviders;
import io.ostia.target.IscsiTarget;
import io.ostia.transport.iser.internal.IserTransport;
import io.ostia.transport.tcp.TcpTransports;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * One session moving between TCP and iSER (the loopback fabric) under a continuous
 * write-and-verify load, against Ostia's embedded target serving both on one port number:
 * switchTransport both ways, failback to iSER when it appears, iSER leaving (back to TCP), and
 * login by ordered preference. Every move must lose, fail or alter no I/O.
 */
class SessionSwapAcrossTransportsTest {

    private static final String TARGET = "iqn.2026-12.io.ostia.test:swap-iser";
    private static final String INITIATOR = "iqn.2026-12.io.ostia.test:swap-iser-client";
    private static final long LUN_BYTES = 16L << 20;
    private static final Duration WAIT = Duration.ofSeconds(30);

    private final RdmaProvider fabric = RdmaProviders.byName(RdmaProviders.LOOPBACK);

    /** The target with a TCP and an iSER portal on the same port number (a free TCP one; the fabric's ports are the JVM's own). */
    private IscsiTarget startTarget(boolean withIser) throws Exception {
        int port;
        try (ServerSocket probe = new ServerSocket(0)) {
            port = probe.getLocalPort();
        }
        IscsiTarget.Builder b = IscsiTarget.builder().portal("127.0.0.1", port).logoutGrace(Duration.ofMillis(200));
        if (withIser) {
            b.iserPortal("127.0.0.1", port, fabric);
        }
        return b.target(TARGET, t -> t.ramLun(LUN_BYTES)).build().start();
    }

    private static IserTransport iser() {
        return new IserTransport(IserTransportOptions.defaults().withProvider(RdmaProviders.LOOPBACK), () -> { });
    }

    private static SessionOptions.Builder options(IscsiTarget target, String... preference) {
        return SessionOptions.builder().portal("127.0.0.1", target.port()).targetName(TARGET).initiatorName(INITIATOR)
                .transports(preference).queueDepth(32).loginTimeout(Duration.ofSeconds(10));
    }

    private static void assertNothingLost(WriteVerifyLoad load) throws Exception {
        assertTrue(load.stop(WAIT), "the load's writers stop");
        assertTrue(load.verifyAll() > 0, "some writes were acknowledged: " + load);
        assertEquals(0, load.failures(), load::toString);
        assertEquals(0, load.mismatches(), load::toString);
    }

    @Test
    void switchTransportBetweenTcpAndIserUnderLoadLosesNothing() throws Exception {
        movesUnderLoadLoseNothing(true, target -> options(target, "tcp", "iser").build(), (initiator, iser, session, events, load) -> {
            for (int i = 0; i < 5; i++) {
                for (String to : List.of("iser", "tcp", "tcp")) {
                    String from = session.transport();
                    assertTrue(load.awaitWrites(20, WAIT), "the load runs before moving to " + to + ": " + load);
                    Duration pause = session.switchTransport(to);
                    assertEquals(to, session.transport());
                    assertEquals(new SessionEvent.Moved(session, from, to, pause, MoveReason.REQUESTED),
                            events.next(SessionEvent.Moved.class, WAIT));
                    assertEquals(to.equals("iser") ? "Yes" : "No",
                            session.negotiatedParameters().getOrDefault("RDMAExtensions", "No"));
                }
            }
            assertTrue(load.awaitWrites(20, WAIT), load::toString);
        });
    }

    @Test
    void failbackMovesTheSessionToIserWhenItAppearsAndItsLeavingMovesItBack() throws Exception {
        movesUnderLoadLoseNothing(false, target -> options(target, "iser", "tcp").failback(FailbackPolicy.PREFERRED).build(),
                (initiator, iser, session, events, load) -> {
                    assertEquals("tcp", session.transport(), "iSER is not there yet");
                    assertTrue(load.awaitWrites(50, WAIT), load::toString);
                    initiator.addTransport(iser); // as DS binds a transport service that appears
                    SessionEvent.Moved back = events.next(SessionEvent.Moved.class, WAIT);
                    assertEquals(List.of("tcp", "iser", "FAILBACK"), List.of(back.from(), back.to(), back.reason().name()));
                    assertTrue(load.awaitWrites(50, WAIT), "the load runs over iSER: " + load);

                    iser.close(); // the bundle stops: it announces it is leaving, the session moves first
                    SessionEvent.Moved away = events.next(SessionEvent.Moved.class, WAIT);
                    assertEquals(List.of("iser", "tcp", "TRANSPORT_LEAVING"),
                            List.of(away.from(), away.to(), away.reason().name()));
                    initiator.removeTransport(iser);
                    assertEquals("tcp", session.transport());
                    assertTrue(load.awaitWrites(50, WAIT), "the load runs over TCP again: " + load);
                });
    }

    private interface Moves {
        void run(ClosableInitiator initiator, IserTransport iser, Session session, SessionEventQueue events,
                 WriteVerifyLoad load) throws Exception;
    }

    /**
     * A session logged in with {@code options} under a write-and-verify load (iSER registered from
     * the start or not), {@code moves} run on it; nothing is lost, and every RDMA object is freed.
     */
    private void movesUnderLoadLoseNothing(boolean iserFromStart, Function<IscsiTarget, SessionOptions> options, Moves moves)
            throws Exception {
        List<String> objectsBefore = fabric.openObjects();
        IserTransport iser = iser();
        try (IscsiTarget target = startTarget(true);
             IscsiTransport tcp = TcpTransports.create();
             ClosableInitiator initiator = Initiators.create(iserFromStart ? List.of(tcp, iser) : List.of(tcp))) {
            Session session = initiator.login(options.apply(target));
            assertEquals("tcp", session.transport());
            SessionEventQueue events = new SessionEventQueue();
            session.addListener(events);
            try (WriteVerifyLoad load = new WriteVerifyLoad(session.open(0), 8, 16, LUN_BYTES / 512).start()) {
                moves.run(initiator, iser, session, events, load);
                assertNothingLost(load);
            }
            session.close();
        } finally {
            iser.close();
        }
        assertEquals(objectsBefore, fabric.openObjects(), "every RDMA object of the iSER connections is freed");
    }

    @Test
    void loginTakesTheFirstTransportThatConnectsAndNamesWhyOthersFailed() throws Exception {
        IserTransport iser = iser();
        try (IscsiTarget target = startTarget(false); // TCP only: iSER cannot connect
             IscsiTransport tcp = TcpTransports.create();
             ClosableInitiator initiator = Initiators.create(List.of(tcp, iser))) {
            try (Session session = initiator.login(options(target, "iser", "tcp").build())) {
                assertEquals("tcp", session.transport());
            }
            target.close();
            TransportException e = assertThrows(TransportException.class,
                    () -> initiator.login(options(target, "iser", "tcp").build()));
            assertTrue(e.getMessage().contains("iser (") && e.getMessage().contains("tcp ("), e.getMessage());
        } finally {
            iser.close();
        }
    }
}
