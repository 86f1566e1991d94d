package io.ostia.itest;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assume.assumeTrue;

import io.ostia.api.Initiator;
import io.ostia.api.IscsiException;
import io.ostia.api.ScsiRequest;
import io.ostia.api.ScsiResult;
import io.ostia.api.Session;
import io.ostia.api.SessionEvent;
import io.ostia.api.scsi.Cdb;
import io.ostia.api.scsi.ScsiStatus;
import io.ostia.initiator.SessionEventQueue;
import io.ostia.initiator.WriteVerifyLoad;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.inject.Inject;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;

/**
 * Live swap in Felix against Linux tgtd over TCP only (iSER is loopback-only here): the TCP
 * bundle stopped and started under a write-and-verify load; tgtd killed mid-load and restarted;
 * a swap's JFR event recorded in the container; a persistent reservation across a swap.
 * (Stopping the initiator bundle with sessions open is in {@link HygieneIT}.)
 */
@RunWith(PaxExamWithTgtd.class)
@ExamReactorStrategy(PerClass.class)
public class TgtdSwapIT extends InContainerTest {
    private static final long LUN_BYTES = 16L << 20;
    private static final Duration WAIT = Duration.ofSeconds(60);

    @Inject
    private BundleContext context;

    @Inject
    private Initiator initiator;

    @Test
    public void theTcpBundleStoppedAndStartedUnderLoadPausesTheIoWithNoFailure() throws Exception {
        Bundle tcp = Support.bundle(context, "io.ostia.transport.tcp");
        try {
            // No other transport: the session waits for one, and so does its I/O.
            outageUnderLoad("TCP bundle stopped and started", t -> tcp.stop(), t -> tcp.start());
        } finally {
            if (tcp.getState() != Bundle.ACTIVE) {
                tcp.start();
            }
        }
    }

    @Test
    public void tgtdKilledMidLoadAndRestartedIsRecoveredAndAcknowledgedWritesPersist() throws Exception {
        // The same portal, target and LUN file: every write acknowledged before, during and after the crash reads back.
        outageUnderLoad("tgtd killed and restarted", t -> t.tgtd.kill(), TgtdTarget::restart);
    }

    private interface Step {
        void run(TgtdTarget t) throws Exception;
    }

    /**
     * A session under a write-and-verify load loses its connection by {@code cut} and can have
     * one again after {@code restore}: the I/O pauses in between, resumes, and nothing is lost.
     */
    private void outageUnderLoad(String what, Step cut, Step restore) throws Exception {
        try (TgtdTarget t = TgtdTarget.start(LUN_BYTES);
             Session session = initiator.login(t.options().replacementTimeout(WAIT).build())) {
            SessionEventQueue events = new SessionEventQueue();
            session.addListener(events);
            try (WriteVerifyLoad load = new WriteVerifyLoad(session.open(1), 8, 16, LUN_BYTES / 512).start()) {
                assertTrue(load.toString(), load.awaitWrites(50, WAIT));
                cut.run(t);
                events.next(SessionEvent.RecoveryStarted.class, WAIT);
                Thread.sleep(200); // a writer may still count an answer that came before the cut
                long acknowledged = load.writes();
                Thread.sleep(300);
                assertEquals("writes acknowledged with no connection", acknowledged, load.writes());
                restore.run(t);
                SessionEvent.Recovered back = events.next(SessionEvent.Recovered.class, WAIT);
                assertEquals("tcp", back.transport());
                assertTrue("the load resumes: " + load, load.awaitWrites(50, WAIT));
                System.out.println(what + " under load against tgtd: I/O paused " + back.downtime().toMillis() + " ms; " + load);
                assertTrue("the load's writers stop", load.stop(WAIT));
                assertTrue("some writes were acknowledged: " + load, load.verifyAll() > 0);
                assertEquals(load.toString(), 0, load.failures());
                assertEquals(load.toString(), 0, load.mismatches());
            }
        }
    }

    @Test
    public void aSwapInsideTheContainerIsRecordedInJfrWithItsPause() throws Exception {
        Path jfr = Files.createTempFile("ostia-swap-", ".jfr");
        try (TgtdTarget t = TgtdTarget.start(LUN_BYTES); Recording recording = new Recording()) {
            recording.enable("io.ostia.SessionMove").withThreshold(Duration.ZERO);
            recording.start();
            Duration pause;
            try (Session session = initiator.login(t.options().build())) {
                pause = session.switchTransport("tcp");
            }
            recording.stop();
            recording.dump(jfr);
            List<RecordedEvent> moves = RecordingFile.readAllEvents(jfr).stream()
                    .filter(e -> e.getEventType().getName().equals("io.ostia.SessionMove")).toList();
            assertEquals(moves.toString(), 1, moves.size());
            RecordedEvent move = moves.getFirst();
            assertEquals(List.of("tcp", "tcp", "REQUESTED", "moved", TgtdTarget.TARGET), List.of(move.getString("from"),
                    move.getString("to"), move.getString("reason"), move.getString("outcome"), move.getString("target")));
            assertTrue("the event spans the pause switchTransport returned: " + move.getDuration() + " vs " + pause,
                    move.getDuration().compareTo(pause.minusMillis(1)) >= 0);
            System.out.println("JFR in Felix: io.ostia.SessionMove of " + move.getDuration().toMillis() + " ms (pause "
                    + pause.toMillis() + " ms)");
        } finally {
            Files.deleteIfExists(jfr);
        }
    }

    /**
     * The holder of a persistent reservation keeps it across a swap (the same initiator name and
     * ISID: the same I_T nexus, SAM-5 4.6). tgtd 1.0.x does not: it names a nexus by ISID and
     * TSIH ({@code sid64(isid, tsih)}), and a reinstated session has a new TSIH, so the
     * reservation stays with the nexus that is gone and its holder meets RESERVATION CONFLICT.
     * The test then skips saying so; against Ostia's target it passes (SessionSwapTest).
     */
    @Test
    public void aPersistentReservationHolderKeepsItAcrossASwap() throws Exception {
        long key = 0x0571A0000000000BL;
        try (TgtdTarget t = TgtdTarget.start(LUN_BYTES); Arena arena = Arena.ofShared()) {
            Session holder = initiator.login(t.options().build());
            holder.open(1);
            holder.executeOrThrow(prOut(arena, 0x00, 0, key)); // REGISTER
            holder.executeOrThrow(prOut(arena, 0x01, key, 0)); // RESERVE, Write Exclusive
            holder.switchTransport("tcp");
            assertEquals("the reservation is still there, with the holder's key", key, reservationKey(holder, arena));
            MemorySegment block = arena.allocate(512);
            ScsiResult mine = holder.execute(ScsiRequest.write(1, Cdb.write(0, 1), block)).get(WAIT.toSeconds(), TimeUnit.SECONDS);
            if (mine.status() == ScsiStatus.RESERVATION_CONFLICT) {
                String why = "tgtd keys the I_T nexus by ISID and TSIH, so after the session's reinstatement (same ISID,"
                        + " new TSIH) the reservation belongs to the nexus that is gone: the holder's WRITE got RESERVATION CONFLICT";
                System.out.println("skipped: " + why); // Pax Exam may report a failed assumption as a pass
                holder.close();
                assumeTrue(why, false);
            }
            assertEquals("the holder writes", ScsiStatus.GOOD, mine.status());
            try (Session other = initiator.login(t.options().initiatorName(TgtdTarget.INITIATOR + "-other").build())) {
                other.open(1);
                ScsiResult r = other.execute(ScsiRequest.write(1, Cdb.write(0, 1), block)).get(WAIT.toSeconds(), TimeUnit.SECONDS);
                assertEquals("another I_T nexus may not write", ScsiStatus.RESERVATION_CONFLICT, r.status());
            }
            holder.close();
        }
    }

    /** PERSISTENT RESERVE OUT, scope LU, type Write Exclusive, with its 24-byte parameter list. */
    private static ScsiRequest prOut(Arena arena, int serviceAction, long reservationKey, long serviceActionKey) {
        MemorySegment parameters = arena.allocate(24);
        ValueLayout.OfLong be = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
        parameters.set(be, 0, reservationKey);
        parameters.set(be, 8, serviceActionKey);
        return ScsiRequest.write(1, Cdb.persistentReserveOut(serviceAction, 0x01), parameters);
    }

    /** PERSISTENT RESERVE IN, READ RESERVATION: the holder's key, or 0 when none is held. */
    private static long reservationKey(Session session, Arena arena) throws IscsiException {
        MemorySegment data = arena.allocate(24);
        session.executeOrThrow(ScsiRequest.read(1, Cdb.persistentReserveIn(0x01, 24), data));
        int length = data.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN), 4);
        return length < 8 ? 0 : data.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN), 8);
    }
}
