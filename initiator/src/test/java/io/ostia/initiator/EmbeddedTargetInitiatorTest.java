package io.ostia.initiator;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
import io.ostia.transport.tcp.TcpTransports;
import org.junit.jupiter.api.Test;

/** The same contract against Ostia's embedded target, plus what only it can be told to do. */
class EmbeddedTargetInitiatorTest extends InitiatorContractTest {

    @Override
    EmbeddedPeer start(Peer.Config config) throws Exception {
        return EmbeddedPeer.start(dir, config);
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
