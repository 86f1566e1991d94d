package io.ostia.initiator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ostia.api.BlockDevice;
import io.ostia.api.ChapCredentials;
import io.ostia.api.Session;
import io.ostia.api.auth.ChapAlgorithm;
import io.ostia.target.IscsiTarget;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.List;
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
    void taskSetFullIsRetriedUntilTheTargetHasRoom() throws Exception {
        // The embedded target lends one session at most 256 MiB of write buffers, by power-of-two
        // size class: two 160 MiB writes at once take 512 MiB, so the second gets TASK SET FULL
        // until the first is done, and the block device reissues it (issue 12).
        long half = 160L << 20;
        try (Peer f = start(Peer.Config.of(2 * half));
             Session session = f.initiator.login(f.options().build());
             Arena arena = Arena.ofShared()) {
            BlockDevice lun = session.open(f.lun());
            MemorySegment a = arena.allocate(half);
            MemorySegment b = arena.allocate(half);
            a.fill((byte) 0x5a);
            b.fill((byte) 0xa5);
            var first = lun.writeAsync(0, a);
            var second = lun.writeAsync(half / 512, b);
            first.get(60, java.util.concurrent.TimeUnit.SECONDS);
            second.get(60, java.util.concurrent.TimeUnit.SECONDS);
            MemorySegment back = arena.allocate(half);
            lun.read(half / 512, back);
            assertEquals(-1L, b.mismatch(back), "the reissued write wrote its data");
            lun.read(0, back);
            assertEquals(-1L, a.mismatch(back));
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
