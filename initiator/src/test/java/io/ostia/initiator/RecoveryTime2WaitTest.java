package io.ostia.initiator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.ostia.api.BlockDevice;
import io.ostia.api.IscsiException;
import io.ostia.api.Session;
import io.ostia.api.SessionEvent;
import io.ostia.api.SessionOptions;
import io.ostia.api.pdu.AsyncMessage;
import io.ostia.api.spi.IscsiTransport;
import io.ostia.target.IscsiTarget;
import io.ostia.target.LunSpec;
import io.ostia.transport.tcp.TcpTransports;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * After an unexpected connection loss the session waits the negotiated DefaultTime2Wait before it
 * logs in again with the same ISID (RFC 7143 §13.15), against the embedded target and tgtd, each
 * offering a Time2Wait other than the usual 2 s: the target itself shows no new session before
 * then. What was in flight goes again as new tasks (ErrorRecoveryLevel 0), so nothing is lost.
 *
 * <p>The Time2Wait a target names itself (an Async Message dropping the connection, a Logout
 * answered "cleanup failed") is honoured the same way, and one not less than the replacement
 * timeout fails the session at once rather than after it. Those run against the embedded target
 * only: tgtd cannot be made to send either (tgtadm's connection delete closes without an Async
 * Message, and tgtd closes every session a Logout asks it to), so the target's
 * {@code dropConnections} and {@code refuseLogouts} drive them.
 */
class RecoveryTime2WaitTest {

    private static final String TARGET = "iqn.2026-12.io.ostia.test:time2wait";
    private static final long LUN_BYTES = 16L << 20;
    private static final int TIME2WAIT = 3;
    private static final Duration WAIT = Duration.ofSeconds(60);
    /** A little under Time2Wait: the target's own clock reading (its session list) is not exact. */
    private static final Duration QUIET = Duration.ofMillis(TIME2WAIT * 1000L - 200);
    private static final Pattern NEXUS = Pattern.compile("I_T nexus: (\\d+)");

    @TempDir
    Path dir;

    private IscsiTarget startTarget(int port) throws Exception {
        Path file = dir.resolve("lun0.img");
        // No logout grace: closing drops the connections without asking for a logout, as a crash would.
        return IscsiTarget.builder().portal("127.0.0.1", port).logoutGrace(Duration.ZERO)
                .target(TARGET, t -> t.lun(0, LunSpec.file(file, LUN_BYTES)).recoveryTimes(TIME2WAIT, 7)).build().start();
    }

    @Test
    void theEmbeddedTargetRestartedAtOnceSeesNoLoginBeforeTime2Wait() throws Exception {
        IscsiTarget target = startTarget(0);
        int port = target.port();
        try (IscsiTransport tcp = TcpTransports.create();
             ClosableInitiator initiator = Initiators.create(List.of(tcp))) {
            Session session = initiator.login(SessionOptions.builder().portal("127.0.0.1", port).targetName(TARGET)
                    .initiatorName(Peer.INITIATOR).replacementTimeout(Duration.ofSeconds(30)).build());
            assertEquals(Integer.toString(TIME2WAIT), session.negotiatedParameters().get("DefaultTime2Wait"),
                    "the larger offer, the target's");
            assertEquals("0", session.negotiatedParameters().get("DefaultTime2Retain"), "the smaller offer, ours");
            SessionEventQueue events = new SessionEventQueue();
            session.addListener(events);
            try (WriteVerifyLoad load = new WriteVerifyLoad(session.open(0), 8, 16, LUN_BYTES / 512).start()) {
                assertTrue(load.awaitWrites(50, WAIT), load::toString);
                long lost = System.nanoTime();
                target.close();
                target = startTarget(port); // the same file behind the same portal, listening again at once
                IscsiTarget restarted = target;
                assertQuietFor(lost, () -> restarted.sessionCount() > 0, "a session on the restarted embedded target");
                SessionEvent.Recovered recovered = events.next(SessionEvent.Recovered.class, WAIT);
                assertTrue(recovered.downtime().toMillis() >= TIME2WAIT * 1000L - 50, recovered::toString);
                assertTrue(load.awaitWrites(50, WAIT), "the load carries on: " + load);
                assertNothingLost(load);
            }
            session.close();
        } finally {
            target.close();
        }
    }

    @Test
    void tgtdWithItsConnectionDroppedSeesNoLoginBeforeTime2Wait() throws Exception {
        try (TgtdPeer f = TgtdPeer.start(dir, Peer.Config.of(LUN_BYTES))) {
            f.tgtd.setParameter(f.target, "DefaultTime2Wait", Integer.toString(TIME2WAIT));
            Session session = f.initiator.login(f.options().replacementTimeout(Duration.ofSeconds(30)).build());
            assertEquals(Integer.toString(TIME2WAIT), session.negotiatedParameters().get("DefaultTime2Wait"));
            SessionEventQueue events = new SessionEventQueue();
            session.addListener(events);
            BlockDevice lun = session.open(f.lun());
            try (WriteVerifyLoad load = new WriteVerifyLoad(lun, 8, 16, LUN_BYTES / 512).start()) {
                assertTrue(load.awaitWrites(50, WAIT), load::toString);
                List<Integer> before = nexuses(f);
                assertEquals(1, before.size(), before::toString);
                int sid = before.getFirst();
                long lost = System.nanoTime();
                // tgtd closes the connection, as a network failure would: an unexpected termination for the initiator.
                f.tgtd.tgtadm("--mode", "conn", "--op", "delete", "--tid", Integer.toString(f.target.tid()),
                        "--sid", Integer.toString(sid), "--cid", "0");
                assertQuietFor(lost, () -> nexuses(f).stream().anyMatch(n -> n != sid), "a new I_T nexus on tgtd");
                events.next(SessionEvent.Recovered.class, WAIT);
                assertTrue(nexuses(f).stream().anyMatch(n -> n != sid), "tgtd shows the new nexus");
                assertTrue(load.awaitWrites(50, WAIT), "the load carries on: " + load);
                assertNothingLost(load);
            }
            session.close();
        }
    }

    /** Far above any honest pause here: a wait that is not bounded by its Time2Wait fails this. */
    private static final Duration SLACK = Duration.ofSeconds(20);

    @ParameterizedTest
    @EnumSource(value = AsyncMessage.Event.class, names = {"CONNECTION_DROPPED", "SESSION_DROPPED"})
    void anAsyncMessageDroppingTheConnectionIsHonouredForItsTime2Wait(AsyncMessage.Event event) throws Exception {
        int named = TIME2WAIT + 2; // not the negotiated one: the message's own
        try (EmbeddedSession e = new EmbeddedSession(Duration.ofSeconds(30));
             WriteVerifyLoad load = new WriteVerifyLoad(e.session.open(0), 8, 16, LUN_BYTES / 512).start()) {
            assertTrue(load.awaitWrites(50, WAIT), load::toString);
            assertEquals(1, e.target.dropConnections(TARGET, event, named, 5));
            // The cause may be the closed connection, seen by a send before the message was read: the wait counts.
            e.events.next(SessionEvent.RecoveryStarted.class, WAIT);
            SessionEvent.Recovered recovered = e.events.next(SessionEvent.Recovered.class, WAIT);
            assertTrue(recovered.downtime().toMillis() >= named * 1000L - 50, "waited the message's Time2Wait: " + recovered);
            assertTrue(recovered.downtime().compareTo(Duration.ofSeconds(named).plus(SLACK)) < 0, recovered::toString);
            assertTrue(load.awaitWrites(50, WAIT), "the load carries on: " + load);
            assertNothingLost(load);
        }
    }

    @Test
    void anAsyncDropWhoseTime2WaitOutlastsTheReplacementTimeoutFailsTheSessionAtOnce() throws Exception {
        try (EmbeddedSession e = new EmbeddedSession(Duration.ofSeconds(5))) {
            long dropped = System.nanoTime();
            assertEquals(1, e.target.dropConnections(TARGET, AsyncMessage.Event.SESSION_DROPPED, 60, 0));
            SessionEvent.RecoveryFailed failed = e.events.next(SessionEvent.RecoveryFailed.class, WAIT);
            assertFailedAtOnce(e.session, dropped, failed.cause(), "Time2Wait 60 s");
            assertThrows(IscsiException.class, () -> e.session.open(0), "a failed session opens nothing");
        }
    }

    @Test
    void aLogoutAnsweredCleanupFailedMakesTheMoveWaitItsTime2Wait() throws Exception {
        try (EmbeddedSession e = new EmbeddedSession(Duration.ofSeconds(30));
             WriteVerifyLoad load = new WriteVerifyLoad(e.session.open(0), 8, 16, LUN_BYTES / 512).start()) {
            assertTrue(load.awaitWrites(50, WAIT), load::toString);
            e.target.refuseLogouts(1, TIME2WAIT);
            Duration pause = e.session.switchTransport(e.tcp.name());
            assertTrue(pause.toMillis() >= TIME2WAIT * 1000L - 50, "the move waited the logout's Time2Wait: " + pause);
            assertTrue(pause.compareTo(Duration.ofSeconds(TIME2WAIT).plus(SLACK)) < 0, pause::toString);
            assertTrue(load.awaitWrites(50, WAIT), "the load carries on: " + load);
            assertNothingLost(load);
        }
    }

    @Test
    void aLogoutRefusedForLongerThanTheReplacementTimeoutFailsTheMoveAtOnce() throws Exception {
        try (EmbeddedSession e = new EmbeddedSession(Duration.ofSeconds(5))) {
            e.target.refuseLogouts(1, 60);
            long started = System.nanoTime();
            IscsiException failed = assertThrows(IscsiException.class, () -> e.session.switchTransport(e.tcp.name()));
            assertFailedAtOnce(e.session, started, failed, "Time2Wait of 60 s");
        }
    }

    /** The session failed within its replacement timeout of 5 s (not after Time2Wait), saying why. */
    private static void assertFailedAtOnce(Session session, long since, Throwable cause, String why) {
        long after = (System.nanoTime() - since) / 1_000_000;
        assertTrue(after < 5_000, "failed before the replacement timeout, not after Time2Wait: " + after + " ms");
        assertTrue(cause.getMessage().contains(why), () -> "the error names " + why + ": " + cause);
        assertFalse(session.isOpen(), "the session failed");
    }

    /** The target of {@link #startTarget} and a TCP initiator's session on it, its events recorded. */
    private final class EmbeddedSession implements AutoCloseable {
        final IscsiTarget target;
        final IscsiTransport tcp;
        final ClosableInitiator initiator;
        final Session session;
        final SessionEventQueue events = new SessionEventQueue();

        EmbeddedSession(Duration replacementTimeout) throws Exception {
            target = startTarget(0);
            tcp = TcpTransports.create();
            initiator = Initiators.create(List.of(tcp));
            session = initiator.login(SessionOptions.builder().portal("127.0.0.1", target.port()).targetName(TARGET)
                    .initiatorName(Peer.INITIATOR).replacementTimeout(replacementTimeout).build());
            session.addListener(events);
        }

        @Override
        public void close() throws Exception {
            try (target; tcp; initiator) {
                if (session.isOpen()) { // a failed session has nothing to log out
                    session.close();
                }
            }
        }
    }

    /** The target's I_T nexuses on tgtd ({@code tgtadm --op show}). */
    private static List<Integer> nexuses(TgtdPeer f) {
        Matcher m = NEXUS.matcher(f.tgtd.tgtadm("--mode", "target", "--op", "show"));
        List<Integer> found = new ArrayList<>();
        while (m.find()) {
            found.add(Integer.parseInt(m.group(1)));
        }
        return found;
    }

    /** Fails if {@code seen} becomes true before {@link #QUIET} has passed since {@code since}. */
    private static void assertQuietFor(long since, BooleanSupplier seen, String what) throws InterruptedException {
        while (System.nanoTime() - since < QUIET.toNanos()) {
            if (seen.getAsBoolean()) {
                fail(what + " " + (System.nanoTime() - since) / 1_000_000 + " ms after the connection was lost,"
                        + " before Time2Wait " + TIME2WAIT + " s");
            }
            Thread.sleep(20);
        }
    }

    private static void assertNothingLost(WriteVerifyLoad load) throws Exception {
        assertTrue(load.stop(WAIT), "the load's writers stop");
        assertTrue(load.verifyAll() > 0, "some writes were acknowledged: " + load);
        assertEquals(0, load.failures(), load::toString);
        assertEquals(0, load.mismatches(), load::toString);
    }
}
