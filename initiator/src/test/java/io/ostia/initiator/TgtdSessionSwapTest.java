package io.ostia.initiator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ostia.api.ScsiRequest;
import io.ostia.api.ScsiResult;
import io.ostia.api.Session;
import io.ostia.api.scsi.Cdb;
import io.ostia.api.scsi.ScsiStatus;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Moves of a session against Linux tgtd (TCP to TCP; tgtd has no iSER here): nothing lost under
 * load, and the unit attention tgtd raises for the reinstated I_T nexus never reaches a caller,
 * not even one that sends raw commands with {@link Session#execute}.
 */
class TgtdSessionSwapTest {

    private static final long LUN_BYTES = 16L << 20;

    @TempDir
    Path dir;

    @Test
    void movesUnderLoadLoseNothing() throws Exception {
        try (TgtdPeer f = TgtdPeer.start(dir, Peer.Config.of(LUN_BYTES));
             Session session = f.initiator.login(f.options().build())) {
            try (WriteVerifyLoad load = new WriteVerifyLoad(session.open(f.lun()), 8, 16, LUN_BYTES / 512).start()) {
                for (int i = 0; i < 10; i++) {
                    assertTrue(load.awaitWrites(20, Duration.ofSeconds(30)), load::toString);
                    session.switchTransport("tcp");
                }
                assertTrue(load.awaitWrites(20, Duration.ofSeconds(30)), load::toString);
                assertTrue(load.stop(Duration.ofSeconds(30)));
                assertTrue(load.verifyAll() > 0, load::toString);
                assertEquals(0, load.failures(), load::toString);
                assertEquals(0, load.mismatches(), load::toString);
            }
        }
    }

    @Test
    void rawCommandsAfterAMoveSeeNoUnitAttention() throws Exception {
        try (TgtdPeer f = TgtdPeer.start(dir, Peer.Config.of(LUN_BYTES));
             Session session = f.initiator.login(f.options().build());
             Arena arena = Arena.ofShared()) {
            session.open(f.lun()); // consumes the unit attention of the first login, as a disk driver does
            MemorySegment block = arena.allocate(512);
            for (int i = 0; i < 3; i++) {
                session.switchTransport("tcp");
                ScsiResult ready = session.execute(ScsiRequest.none(f.lun(), Cdb.testUnitReady())).get(30, TimeUnit.SECONDS);
                assertEquals(ScsiStatus.GOOD, ready.status(), () -> "after move " + ready.sense());
                ScsiResult read = session.execute(ScsiRequest.read(f.lun(), Cdb.read(0, 1), block)).get(30, TimeUnit.SECONDS);
                assertEquals(ScsiStatus.GOOD, read.status(), () -> "after move " + read.sense());
            }
        }
    }
}
