package io.ostia.initiator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ostia.api.BlockDevice;
import io.ostia.api.ChapCredentials;
import io.ostia.api.Session;
import io.ostia.api.SessionEvent;
import io.ostia.api.scsi.ScsiStatus;
import io.ostia.api.auth.ChapAlgorithm;
import io.ostia.target.IscsiTarget;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import java.util.Map;
import io.ostia.transport.tcp.TcpTransports;
import org.junit.jupiter.api.Test;

/** The same contract against Ostia's embedded target, plus what only it can be told to do. */
class EmbeddedTargetInitiatorTest extends InitiatorContractTest {

    @Override
    EmbeddedPeer start(Peer.Config config) throws Exception {
        return EmbeddedPeer.start(dir, config);
    }

    @Test
    void offersThatDecideTheirResultNeedNoAnswer() throws Exception {
        // Ostia's target leaves InitialR2T=Yes, ImmediateData=No, DataPDUInOrder=Yes and
        // DataSequenceInOrder=Yes unanswered (RFC 7143 §6.2.2); the login must still complete.
        try (Peer f = start(Peer.Config.of(1 << 20));
             Session session = f.initiator.login(f.options().immediateData(false).initialR2T(true).build())) {
            Map<String, String> negotiated = session.negotiatedParameters();
            assertEquals("No", negotiated.get("ImmediateData"), negotiated::toString);
            assertEquals("Yes", negotiated.get("InitialR2T"), negotiated::toString);
            assertEquals("Yes", negotiated.get("DataPDUInOrder"), negotiated::toString);
            assertEquals("Yes", negotiated.get("DataSequenceInOrder"), negotiated::toString);
            assertTrue(session.ping() > 0);
        }
    }

    @Test
    void taskSetFullIsRetriedUntilTheTargetHasRoomAndEachReissueIsAnEvent() throws Exception {
        // A 256 KiB write budget, all of it one session's: of eight 128 KiB writes at once, two
        // are buffered and the others get TASK SET FULL until those are done; the block device
        // reissues them with a backoff, and tells listeners and JFR each time (issue 12).
        int chunk = 128 << 10;
        int writes = 8;
        List<SessionEvent.CommandReissued> reissues = new CopyOnWriteArrayList<>();
        Path jfr = dir.resolve("reissues.jfr");
        try (Peer f = EmbeddedPeer.start(dir, Peer.Config.of((long) chunk * writes), b -> b.writeBudget(256 << 10, 1));
             Session session = f.initiator.login(f.options().build());
             Arena arena = Arena.ofShared();
             Recording recording = new Recording()) {
            recording.enable("io.ostia.CommandReissue");
            recording.start();
            session.addListener(e -> {
                if (e instanceof SessionEvent.CommandReissued r) {
                    reissues.add(r);
                }
            });
            BlockDevice lun = session.open(f.lun());
            MemorySegment data = arena.allocate((long) chunk * writes);
            for (int i = 0; i < writes; i++) {
                data.asSlice((long) i * chunk, chunk).fill((byte) (0x11 * (i + 1)));
            }
            List<CompletableFuture<Void>> pending = new ArrayList<>();
            for (int i = 0; i < writes; i++) {
                pending.add(lun.writeAsync((long) i * chunk / 512, data.asSlice((long) i * chunk, chunk)));
            }
            CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
            MemorySegment back = arena.allocate((long) chunk * writes);
            lun.read(0, back);
            assertEquals(-1L, data.mismatch(back), "the reissued writes wrote their data");
            recording.stop();
            recording.dump(jfr);

            // JFR commits each event as the reissue is made; listeners hear of it on the session's
            // delivery thread, a little later.
            List<RecordedEvent> recorded = RecordingFile.readAllEvents(jfr);
            assertFalse(recorded.isEmpty(), "writes beyond the budget's two were answered TASK SET FULL and reissued");
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (reissues.size() < recorded.size() && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertEquals(recorded.size(), reissues.size(), "one JFR event per reissue, and one session event");
            for (SessionEvent.CommandReissued r : reissues) {
                assertEquals(session, r.session());
                assertEquals(f.lun(), r.lun());
                assertEquals(ScsiStatus.TASK_SET_FULL, r.status(), r::toString);
                // 5 ms for the first reissue of a command, doubling to 500 ms.
                assertEquals(Math.min(500, 5L << (r.attempt() - 1)), r.backoff().toMillis(), r::toString);
            }
            // How many of the eight meet a full budget depends on how far the first two got
            // before the others arrived; at most six can, and each reissue series starts at 1.
            long firsts = reissues.stream().filter(r -> r.attempt() == 1).count();
            assertTrue(firsts >= 1 && firsts <= writes - 2, "first reissues: " + firsts + " of " + reissues);
            RecordedEvent first = recorded.getFirst();
            assertEquals("TASK_SET_FULL", first.getString("status"));
            assertEquals(EmbeddedPeer.TARGET, first.getString("target"));
            assertTrue(first.getString("command").startsWith("WRITE of 256 blocks"), first.getString("command"));
        }
    }

    @Test
    void discoveryChapIsUsedWhenTheTargetAsksForIt() throws Exception {
        ChapCredentials chap = ChapCredentials.oneWay("discovery-user", "discovery-secret-1");
        var transport = TcpTransports.create();
        try (IscsiTarget target = IscsiTarget.builder().portal("127.0.0.1", 0).discoveryChap(chap)
                     .target(EmbeddedPeer.TARGET, t -> t.ramLun(1 << 20)).build().start();
             ClosableInitiator initiator = Initiators.create(List.of(transport))) {
            var options = io.ostia.api.SessionOptions.builder().portal("127.0.0.1", target.port())
                    .initiatorName(Peer.INITIATOR);
            assertEquals(EmbeddedPeer.TARGET, initiator.discover(options.chap(chap).build()).getFirst().name());
            assertThrows(io.ostia.api.AuthenticationException.class, () -> initiator.discover(options.chap(
                    ChapCredentials.oneWay("discovery-user", "not-the-secret")).build()));
        } finally {
            transport.close();
        }
    }

    @Test
    void mutualChapAgainstAOneWayTargetSaysWhatIsMissing() throws Exception {
        ChapCredentials oneWay = ChapCredentials.oneWay("ostia-user", "ostia-secret-1");
        ChapCredentials mutual = ChapCredentials.mutual("ostia-user", "ostia-secret-1", "target-user", "target-secret-2");
        try (Peer f = start(Peer.Config.of(1 << 20).withChap(oneWay))) {
            var e = assertThrows(io.ostia.api.AuthenticationException.class,
                    () -> f.initiator.login(f.options().chap(mutual).build()));
            assertTrue(e.getMessage().contains("credentials of its own for mutual CHAP"), e.getMessage());
        }
    }

    @Test
    void mutualChapWithSha256() throws Exception {
        // tgt reads CHAP_A=7 as SHA-1, so SHA-256 is checked against the embedded target only.
        ChapCredentials chap = ChapCredentials.mutual("ostia-user", "ostia-secret-1", "target-user", "target-secret-2");
        try (Peer f = start(Peer.Config.of(1 << 20).withChap(chap));
             Session session = f.initiator.login(f.options().chap(chap)
                     .chapAlgorithms(List.of(ChapAlgorithm.SHA256)).build())) {
            assertTrue(session.isOpen());
        }
    }

    @Test
    void answersTheTargetsPingsSoTheSessionStays() throws Exception {
        var transport = TcpTransports.create();
        try (IscsiTarget target = IscsiTarget.builder().portal("127.0.0.1", 0)
                     .nopIn(Duration.ofMillis(100), Duration.ofMillis(400))
                     .target(EmbeddedPeer.TARGET, t -> t.ramLun(1 << 20)).build().start();
             ClosableInitiator initiator = Initiators.create(List.of(transport));
             Session session = initiator.login(io.ostia.api.SessionOptions.builder().portal("127.0.0.1", target.port())
                     .targetName(EmbeddedPeer.TARGET).initiatorName(Peer.INITIATOR).nopInterval(Duration.ZERO).build());
             Arena arena = Arena.ofShared()) {
            int tsih = session.tsih();
            Thread.sleep(1500); // idle: only the target's NOP-In pings cross, and our NOP-Out answers
            BlockDevice lun = session.open(0);
            lun.read(0, arena.allocate(4096));
            assertEquals(tsih, session.tsih(), "the session was reinstated: a ping went unanswered");
            assertTrue(session.isOpen());
        } finally {
            transport.close();
        }
    }
}
