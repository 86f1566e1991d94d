package io.ostia.initiator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ostia.api.BlockDevice;
import io.ostia.api.IscsiException;
import io.ostia.api.ScsiRequest;
import io.ostia.api.ScsiResult;
import io.ostia.api.Session;
import io.ostia.api.SessionEvent;
import io.ostia.api.SessionEvent.MoveReason;
import io.ostia.api.SessionOptions;
import io.ostia.api.TransportException;
import io.ostia.api.scsi.Cdb;
import io.ostia.api.scsi.ScsiStatus;
import io.ostia.api.spi.IscsiTransport;
import io.ostia.target.IscsiTarget;
import io.ostia.target.LunSpec;
import io.ostia.transport.tcp.TcpTransports;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A session moved between connections under a continuous write-and-verify load, against Ostia's
 * embedded target over TCP: switchTransport, a transport leaving or vanishing from the registry,
 * a persistent reservation kept across the move, the session's events and JFR events, an outage
 * longer than the replacement timeout, a target killed and restarted. The TCP-to-iSER moves are
 * in transport-iser's tests, which have both transports.
 */
class SessionSwapTest {

    private static final String TARGET = "iqn.2026-12.io.ostia.test:swap";
    private static final String INITIATOR = "iqn.2026-12.io.ostia.test:swap-client";
    private static final long LUN_BYTES = 16L << 20;
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    private IscsiTarget startTarget(int port) throws Exception {
        Path file = dir.resolve("lun0.img");
        return IscsiTarget.builder().portal("127.0.0.1", port).logoutGrace(Duration.ofMillis(200))
                .target(TARGET, t -> t.lun(0, LunSpec.file(file, LUN_BYTES))).build().start();
    }

    private static SessionOptions.Builder options(IscsiTarget target) {
        return SessionOptions.builder().portal("127.0.0.1", target.port()).targetName(TARGET).initiatorName(INITIATOR)
                .loginTimeout(Duration.ofSeconds(10)).commandTimeout(Duration.ofSeconds(20));
    }

    private static WriteVerifyLoad load(BlockDevice lun) {
        return new WriteVerifyLoad(lun, 8, 16, lun.blockCount()).start();
    }

    /** Stops the load, reads every acknowledged write back, and asserts nothing failed or differed. */
    private static void assertNothingLost(WriteVerifyLoad load) throws Exception {
        assertTrue(load.stop(WAIT), "the load's writers stop");
        long checked = load.verifyAll();
        assertTrue(checked > 0, "some writes were acknowledged: " + load);
        assertEquals(0, load.failures(), load::toString);
        assertEquals(0, load.mismatches(), load::toString);
    }

    @Test
    void switchTransportUnderLoadLosesNothingAndReportsEveryMove() throws Exception {
        try (IscsiTarget target = startTarget(0);
             IscsiTransport tcp = TcpTransports.create();
             ClosableInitiator initiator = Initiators.create(List.of(tcp))) {
            Session session = initiator.login(options(target).build());
            SessionEventQueue events = new SessionEventQueue();
            session.addListener(events);
            assertEquals(new SessionEvent.LoggedIn(session, "tcp"), events.next(SessionEvent.LoggedIn.class, WAIT));
            long isid = session.isid();
            try (WriteVerifyLoad load = load(session.open(0))) {
                for (int i = 0; i < 10; i++) {
                    assertTrue(load.awaitWrites(20, WAIT), "the load runs before move " + i + ": " + load);
                    Duration pause = session.switchTransport("tcp");
                    assertFalse(pause.isNegative() || pause.isZero(), pause::toString);
                    SessionEvent.Moved moved = events.next(SessionEvent.Moved.class, WAIT);
                    assertEquals(new SessionEvent.Moved(session, "tcp", "tcp", pause, MoveReason.REQUESTED), moved);
                }
                assertTrue(load.awaitWrites(20, WAIT), "the load runs after the last move: " + load);
                assertNothingLost(load);
            }
            assertEquals(isid, session.isid(), "the ISID, and so the I_T nexus, stays");
            assertEquals(List.of(session), initiator.sessions());
            session.close();
            events.next(SessionEvent.LoggedOut.class, WAIT);
            assertEquals(List.of(), initiator.sessions());
            assertThrows(IscsiException.class, () -> session.switchTransport("tcp"), "a closed session does not move");
        }
    }

    @Test
    void aTransportThatIsNotAvailableIsNamedAndTheSessionStaysPut() throws Exception {
        try (IscsiTarget target = startTarget(0);
             IscsiTransport tcp = TcpTransports.create();
             ClosableInitiator initiator = Initiators.create(List.of(tcp));
             Session session = initiator.login(options(target).build())) {
            TransportException e = assertThrows(TransportException.class, () -> session.switchTransport("iser"));
            assertTrue(e.getMessage().contains("iser") && e.getMessage().contains("not available"), e.getMessage());
            assertEquals("tcp", session.transport());
            assertTrue(session.ping() > 0, "the session still works");
        }
    }

    @Test
    void aListenerMayMoveTheSessionFromItsEvent() throws Exception {
        try (IscsiTarget target = startTarget(0);
             IscsiTransport tcp = TcpTransports.create();
             ClosableInitiator initiator = Initiators.create(List.of(tcp));
             Session session = initiator.login(options(target).build())) {
            SessionEventQueue events = new SessionEventQueue();
            BlockingQueue<Object> outcome = new LinkedBlockingQueue<>();
            session.addListener(event -> {
                events.sessionEvent(event);
                if (event instanceof SessionEvent.LoggedIn) {
                    try {
                        outcome.add(session.switchTransport("tcp"));
                    } catch (IscsiException | RuntimeException e) {
                        outcome.add(e);
                    }
                }
            });
            assertInstanceOf(Duration.class, outcome.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS));
            assertEquals(MoveReason.REQUESTED, events.next(SessionEvent.Moved.class, WAIT).reason());
        }
    }

    @Test
    void aTransportLeavingMovesItsSessionsToAnotherWithoutAFailure() throws Exception {
        moveOffTheFirstOfTwoTransportsUnderLoad(MoveReason.TRANSPORT_LEAVING,
                (initiator, first) -> first.close(), // announces itself: transportLeaving, then the drain, then gone
                (initiator, first) -> initiator.removeTransport(first));
    }

    @Test
    void aTransportThatVanishesWithoutNoticeHasItsSessionsMovedAtOnce() throws Exception {
        moveOffTheFirstOfTwoTransportsUnderLoad(MoveReason.TRANSPORT_VANISHED,
                (initiator, first) -> initiator.removeTransport(first), // a DS unbind of a service that went without leaving
                (initiator, first) -> { });
    }

    private interface TransportStep {
        void run(ClosableInitiator initiator, IscsiTransport first) throws Exception;
    }

    /** A session on the first of two TCP transports, under load: {@code fault} moves it, nothing is lost. */
    private void moveOffTheFirstOfTwoTransportsUnderLoad(MoveReason expected, TransportStep fault, TransportStep afterMove)
            throws Exception {
        IscsiTransport first = TcpTransports.create();
        IscsiTransport second = TcpTransports.create();
        try (IscsiTarget target = startTarget(0);
             ClosableInitiator initiator = Initiators.create(List.of(first))) {
            Session session = initiator.login(options(target).build());
            SessionEventQueue events = new SessionEventQueue();
            session.addListener(events);
            initiator.addTransport(second);
            try (WriteVerifyLoad load = load(session.open(0))) {
                assertTrue(load.awaitWrites(50, WAIT), load::toString);
                fault.run(initiator, first);
                SessionEvent.Moved moved = events.next(SessionEvent.Moved.class, WAIT);
                assertEquals(expected, moved.reason());
                afterMove.run(initiator, first);
                assertTrue(load.awaitWrites(50, WAIT), "the load carries on over the other transport: " + load);
                assertNothingLost(load);
            }
            session.close();
        } finally {
            first.close();
            second.close();
        }
    }

    @Test
    void aPersistentReservationHoldsAcrossAMove() throws Exception {
        long key = 0x0571A0000000000AL;
        try (IscsiTarget target = startTarget(0);
             IscsiTransport tcp = TcpTransports.create();
             ClosableInitiator initiator = Initiators.create(List.of(tcp));
             Arena arena = Arena.ofShared()) {
            Session holder = initiator.login(options(target).build());
            BlockDevice lun = holder.open(0);
            holder.executeOrThrow(prOut(arena, 0x00, 0, key)); // REGISTER
            holder.executeOrThrow(prOut(arena, 0x01, key, 0)); // RESERVE, Write Exclusive
            holder.switchTransport("tcp");
            assertEquals(key, reservationKey(holder, arena), "the reservation is still the holder's");
            MemorySegment block = arena.allocate(lun.blockSize());
            lun.write(0, block); // a conflict would throw

            try (Session other = initiator.login(options(target).build())) {
                other.open(0);
                ScsiResult r = other.execute(ScsiRequest.write(0, Cdb.write(0, 1), block))
                        .get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
                assertEquals(ScsiStatus.RESERVATION_CONFLICT, r.status(), "another I_T nexus may not write");
            }
            holder.close();
        }
    }

    /** PERSISTENT RESERVE OUT, scope LU, type Write Exclusive, with a 24-byte parameter list. */
    private static ScsiRequest prOut(Arena arena, int serviceAction, long reservationKey, long serviceActionKey) {
        byte[] cdb = Cdb.persistentReserveOut(serviceAction, 0x01);
        MemorySegment parameters = arena.allocate(24);
        ValueLayout.OfLong be = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
        parameters.set(be, 0, reservationKey);
        parameters.set(be, 8, serviceActionKey);
        return ScsiRequest.write(0, cdb, parameters);
    }

    /** PERSISTENT RESERVE IN, READ RESERVATION: the holder's key, or 0 when none is held. */
    private static long reservationKey(Session session, Arena arena) throws IscsiException {
        byte[] cdb = Cdb.persistentReserveIn(0x01, 24);
        MemorySegment data = arena.allocate(24);
        session.executeOrThrow(ScsiRequest.read(0, cdb, data));
        int length = data.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN), 4);
        return length < 8 ? 0 : data.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN), 8);
    }

    @Test
    void aJfrRecordingHoldsTheMoveWithItsPause() throws Exception {
        Path file = dir.resolve("swap.jfr");
        try (IscsiTarget target = startTarget(0);
             IscsiTransport tcp = TcpTransports.create();
             ClosableInitiator initiator = Initiators.create(List.of(tcp));
             Recording recording = new Recording()) {
            recording.enable("io.ostia.SessionMove").withThreshold(Duration.ZERO);
            recording.enable("io.ostia.Login").withThreshold(Duration.ZERO);
            recording.start();
            Duration pause;
            try (Session session = initiator.login(options(target).build())) {
                pause = session.switchTransport("tcp");
            }
            recording.stop();
            recording.dump(file);
            List<RecordedEvent> recorded = RecordingFile.readAllEvents(file);
            List<RecordedEvent> moves = recorded.stream().filter(e -> e.getEventType().getName().equals("io.ostia.SessionMove")).toList();
            assertEquals(1, moves.size(), recorded::toString);
            RecordedEvent move = moves.getFirst();
            assertEquals("tcp", move.getString("from"));
            assertEquals("tcp", move.getString("to"));
            assertEquals("REQUESTED", move.getString("reason"));
            assertEquals("moved", move.getString("outcome"));
            assertEquals(TARGET, move.getString("target"));
            // The event spans the pause the call returned (begun just before, ended just after it).
            assertTrue(move.getDuration().compareTo(pause.minusMillis(1)) >= 0, move.getDuration() + " vs " + pause);
            assertEquals(2, recorded.stream().filter(e -> e.getEventType().getName().equals("io.ostia.Login")
                    && "logged in".equals(e.getString("outcome"))).count(), "the first login and the one after the move");
        }
    }

    @Test
    void anOutageLongerThanTheReplacementTimeoutFailsQueuedIoClearlyAndNothingHangs() throws Exception {
        IscsiTarget target = startTarget(0);
        try (IscsiTransport tcp = TcpTransports.create();
             ClosableInitiator initiator = Initiators.create(List.of(tcp))) {
            Session session = initiator.login(options(target).replacementTimeout(Duration.ofSeconds(2)).build());
            SessionEventQueue events = new SessionEventQueue();
            session.addListener(events);
            BlockDevice lun = session.open(0);
            WriteVerifyLoad load = load(lun);
            assertTrue(load.awaitWrites(50, WAIT), load::toString);
            target.close();
            events.next(SessionEvent.RecoveryStarted.class, WAIT);
            SessionEvent.RecoveryFailed failed = events.next(SessionEvent.RecoveryFailed.class, WAIT);
            assertTrue(failed.cause().getMessage().contains("replacement timeout"), failed.cause().getMessage());
            assertTrue(load.stop(WAIT), "every writer got its answer: nothing hangs");
            assertTrue(load.failures() > 0, load::toString);
            assertTrue(load.errors().stream().allMatch(e -> e.contains("replacement timeout") || e.contains("closed")),
                    load.errors()::toString);
            assertFalse(session.isOpen());
            load.close();
        } finally {
            target.close();
        }
    }

    @Test
    void aTargetKilledAndRestartedMidLoadIsRecoveredWithNothingLost() throws Exception {
        IscsiTarget target = startTarget(0);
        int port = target.port();
        Path jfr = dir.resolve("recovery.jfr");
        try (IscsiTransport tcp = TcpTransports.create();
             ClosableInitiator initiator = Initiators.create(List.of(tcp));
             Recording recording = new Recording()) {
            recording.enable("io.ostia.SessionRecovery").withThreshold(Duration.ZERO);
            recording.start();
            Session session = initiator.login(options(target).replacementTimeout(Duration.ofSeconds(60)).build());
            SessionEventQueue events = new SessionEventQueue();
            session.addListener(events);
            try (WriteVerifyLoad load = load(session.open(0))) {
                assertTrue(load.awaitWrites(50, WAIT), load::toString);
                target.close();
                events.next(SessionEvent.RecoveryStarted.class, WAIT);
                Thread.sleep(300);
                target = startTarget(port); // the same file behind the same portal
                SessionEvent.Recovered recovered = events.next(SessionEvent.Recovered.class, WAIT);
                assertEquals("tcp", recovered.transport());
                assertTrue(load.awaitWrites(50, WAIT), "the load carries on: " + load);
                assertNothingLost(load);
            }
            session.close();
            recording.stop();
            recording.dump(jfr);
            List<RecordedEvent> recoveries = RecordingFile.readAllEvents(jfr);
            assertTrue(recoveries.stream().anyMatch(e -> "recovered".equals(e.getString("outcome"))
                    && "tcp".equals(e.getString("transport")) && e.getDuration().toNanos() > 0), recoveries::toString);
        } finally {
            target.close();
        }
    }
}
