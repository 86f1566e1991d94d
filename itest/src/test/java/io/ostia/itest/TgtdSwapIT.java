package io.ostia.itest;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import io.ostia.api.BlockDevice;
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
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.inject.Inject;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.After;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.util.tracker.ServiceTracker;

/**
 * Live swap in Felix against Linux tgtd over TCP only (iSER is loopback-only here): the TCP
 * bundle stopped and started under a write-and-verify load; tgtd killed mid-load and restarted;
 * a persistent reservation kept across a swap, with the swap's JFR event recorded in the
 * container; the initiator bundle stopped with sessions open logs every one out and leaves no
 * thread and no connection.
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

    @After
    public void everyOstiaBundleRunning() throws Exception {
        for (String name : List.of("io.ostia.transport.tcp", "io.ostia.initiator")) {
            Bundle b = bundle(name);
            if (b.getState() != Bundle.ACTIVE) {
                b.start();
            }
        }
    }

    private static WriteVerifyLoad load(BlockDevice lun) {
        return new WriteVerifyLoad(lun, 8, 16, LUN_BYTES / 512).start();
    }

    private static void assertNothingLost(WriteVerifyLoad load) throws Exception {
        assertTrue("the load's writers stop", load.stop(WAIT));
        long checked = load.verifyAll();
        assertTrue("some writes were acknowledged: " + load, checked > 0);
        assertEquals(load.toString(), 0, load.failures());
        assertEquals(load.toString(), 0, load.mismatches());
    }

    @Test
    public void theTcpBundleStoppedAndStartedUnderLoadPausesTheIoWithNoFailure() throws Exception {
        Bundle tcp = bundle("io.ostia.transport.tcp");
        try (TgtdTarget t = TgtdTarget.start(LUN_BYTES);
             Session session = initiator.login(t.options().replacementTimeout(WAIT).build())) {
            SessionEventQueue events = new SessionEventQueue();
            session.addListener(events);
            try (WriteVerifyLoad load = load(session.open(1))) {
                assertTrue(load.toString(), load.awaitWrites(50, WAIT));
                tcp.stop(); // no other transport: the session waits for one, and so does its I/O
                events.next(SessionEvent.RecoveryStarted.class, WAIT);
                Thread.sleep(200); // a writer may still count an answer that came before the stop
                long acknowledged = load.writes();
                Thread.sleep(300);
                assertEquals("writes acknowledged while no transport runs", acknowledged, load.writes());
                tcp.start();
                SessionEvent.Recovered back = events.next(SessionEvent.Recovered.class, WAIT);
                assertEquals("tcp", back.transport());
                assertTrue("the load resumes: " + load, load.awaitWrites(50, WAIT));
                System.out.println("TCP bundle stop and start under load against tgtd: I/O paused "
                        + back.downtime().toMillis() + " ms; " + load);
                assertNothingLost(load);
            }
        }
    }

    @Test
    public void tgtdKilledMidLoadAndRestartedIsRecoveredAndAcknowledgedWritesPersist() throws Exception {
        try (TgtdTarget t = TgtdTarget.start(LUN_BYTES);
             Session session = initiator.login(t.options().replacementTimeout(WAIT).build())) {
            SessionEventQueue events = new SessionEventQueue();
            session.addListener(events);
            try (WriteVerifyLoad load = load(session.open(1))) {
                assertTrue(load.toString(), load.awaitWrites(50, WAIT));
                t.tgtd.kill();
                events.next(SessionEvent.RecoveryStarted.class, WAIT);
                t.restart(); // the same portal, target and LUN file
                SessionEvent.Recovered back = events.next(SessionEvent.Recovered.class, WAIT);
                assertTrue("the load carries on: " + load, load.awaitWrites(50, WAIT));
                System.out.println("tgtd killed and restarted under load: downtime " + back.downtime().toMillis() + " ms; "
                        + load);
                // Every write acknowledged before, during and after the crash reads back from the new tgtd.
                assertNothingLost(load);
            }
        }
    }

    @Test
    public void aPersistentReservationHolderKeepsItAcrossASwapRecordedInJfr() throws Exception {
        long key = 0x0571A0000000000BL;
        Path jfr = Files.createTempFile("ostia-swap-", ".jfr");
        try (TgtdTarget t = TgtdTarget.start(LUN_BYTES); Arena arena = Arena.ofShared();
             Recording recording = new Recording()) {
            recording.enable("io.ostia.SessionMove").withThreshold(Duration.ZERO);
            recording.start();
            Session holder = initiator.login(t.options().build());
            BlockDevice lun = holder.open(1);
            holder.executeOrThrow(prOut(arena, 0x00, 0, key)); // REGISTER
            holder.executeOrThrow(prOut(arena, 0x01, key, 0)); // RESERVE, Write Exclusive
            Duration pause = holder.switchTransport("tcp");
            assertEquals("the reservation is still the holder's", key, reservationKey(holder, arena));
            MemorySegment block = arena.allocate(lun.blockSize());
            lun.write(0, block); // a conflict would throw
            try (Session other = initiator.login(t.options().initiatorName(TgtdTarget.INITIATOR + "-other").build())) {
                other.open(1);
                ScsiResult r = other.execute(ScsiRequest.write(1, Cdb.write(0, 1), block)).get(WAIT.toSeconds(), TimeUnit.SECONDS);
                assertEquals("another I_T nexus may not write", ScsiStatus.RESERVATION_CONFLICT, r.status());
            }
            holder.executeOrThrow(prOut(arena, 0x02, key, 0)); // RELEASE
            holder.close();
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

    @Test
    public void stoppingTheInitiatorBundleLogsEverySessionOutAndLeavesNoThreadOrConnection() throws Exception {
        Bundle init = bundle("io.ostia.initiator");
        try (TgtdTarget t = TgtdTarget.start(LUN_BYTES); Arena arena = Arena.ofShared()) {
            List<Session> sessions = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                Session s = initiator.login(t.options().build());
                Support.writeReadBack(s.open(1), arena, i << 20, 1 << 20, 64 << 10, i + 1);
                sessions.add(s);
            }
            assertEquals("I_T nexuses on tgtd", 3, nexuses(t));
            assertEquals("connections to tgtd", 3, establishedTo(t.tgtd.port()));
            assertEquals("receive threads", 3, Support.threads("ostia-tcp-rx").size());

            init.stop();
            for (Session s : sessions) {
                assertFalse("a session still open once the initiator bundle stopped", s.isOpen());
            }
            Support.await(Duration.ofSeconds(10), () -> "I_T nexuses on tgtd: " + nexuses(t), () -> nexuses(t) == 0);
            Support.await(Duration.ofSeconds(10), () -> "connections to tgtd: " + establishedTo(t.tgtd.port()),
                    () -> establishedTo(t.tgtd.port()) == 0);
            Support.await(Duration.ofSeconds(10), () -> "receive threads: " + Support.threads("ostia-tcp-rx"),
                    () -> Support.threads("ostia-tcp-rx").isEmpty());
            Support.await(Duration.ofSeconds(10), () -> "initiator threads: " + Support.threads("ostia-initiator"),
                    () -> Support.threads("ostia-initiator").isEmpty());
        } finally {
            init.start();
            ServiceTracker<Initiator, Initiator> tracker = new ServiceTracker<>(context, Initiator.class, null);
            tracker.open();
            try {
                assertTrue("the Initiator service is back", tracker.waitForService(WAIT.toMillis()) != null);
            } finally {
                tracker.close();
            }
        }
    }

    /** The target's I_T nexuses, as {@code tgtadm --op show} lists them. */
    private static int nexuses(TgtdTarget t) {
        Matcher m = Pattern.compile("I_T nexus: \\d+").matcher(t.tgtd.tgtadm("--mode", "target", "--op", "show"));
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }

    /** Established TCP connections from here to 127.0.0.1:{@code port}, from /proc/net/tcp. */
    private static int establishedTo(int port) {
        try {
            String remote = String.format("0100007F:%04X", port);
            return (int) Files.readAllLines(Path.of("/proc/net/tcp")).stream().skip(1)
                    .map(line -> line.trim().split("\\s+"))
                    .filter(f -> f[2].equals(remote) && f[3].equals("01")).count();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
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

    private Bundle bundle(String symbolicName) {
        for (Bundle b : context.getBundles()) {
            if (symbolicName.equals(b.getSymbolicName())) {
                return b;
            }
        }
        throw new AssertionError("bundle " + symbolicName + " is not installed");
    }
}
