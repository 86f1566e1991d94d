package io.ostia.itest;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import io.ostia.api.Initiator;
import io.ostia.api.Session;
import io.ostia.api.SessionEvent;
import io.ostia.api.scsi.ScsiStatus;
import io.ostia.initiator.SessionEventQueue;
import io.ostia.initiator.WriteVerifyLoad;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
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
     * A persistent reservation across a swap, on tgtd: the same initiator name and ISID are the
     * same I_T nexus (SAM-5 4.6), and against Ostia's target the holder keeps its reservation
     * ({@code IserHotSwapIT}, {@code SessionSwapTest}). tgtd 1.0.x names a nexus by ISID and TSIH
     * ({@code sid64(isid, tsih)}); a reinstated session has a new TSIH, so the reservation stays
     * with the nexus that is gone and its holder meets RESERVATION CONFLICT. The initiator does not
     * restore it on its own: with the same key registered on other paths, a PREEMPT would take
     * their registrations too. This test holds tgtd to that behaviour, so that a tgtd that keeps
     * the nexus fails here and the positive case can take its place.
     */
    @Test
    public void onTgtdAReservationStaysWithTheNexusBeforeTheSwap() throws Exception {
        long key = 0x0571A0000000000BL;
        try (TgtdTarget t = TgtdTarget.start(LUN_BYTES); Arena arena = Arena.ofShared()) {
            Session holder = initiator.login(t.options().build());
            holder.open(1);
            PersistentReservations.registerAndReserve(holder, 1, arena, key);
            assertEquals("the holder writes before the swap", ScsiStatus.GOOD,
                    PersistentReservations.writeOneBlock(holder, 1, arena, WAIT).status());
            holder.switchTransport("tcp");
            assertEquals("the reservation is still there, with the holder's key", key,
                    PersistentReservations.reservationKey(holder, 1, arena));
            assertEquals("tgtd: the reinstated session (new TSIH) is another nexus", ScsiStatus.RESERVATION_CONFLICT,
                    PersistentReservations.writeOneBlock(holder, 1, arena, WAIT).status());
            holder.close();
        }
    }
}
