package io.ostia.itest;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import io.ostia.api.BlockDevice;
import io.ostia.api.Initiator;
import io.ostia.api.Session;
import io.ostia.api.text.DiscoveredTarget;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import javax.inject.Inject;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;

/** The Initiator service of the io.ostia.initiator bundle, with the TCP transport bundle, against tgtd. */
@RunWith(PaxExamWithTgtd.class)
@ExamReactorStrategy(PerClass.class)
public class InitiatorIT extends InContainerTest {
    private static final long LUN_BYTES = 32L << 20;

    @Inject
    private Initiator initiator;

    @Test
    public void discoversLogsInAndWritesAndReadsWithManyCommandsInFlight() throws Exception {
        assertEquals("transports the Initiator service has bound", List.of("tcp"), initiator.transports());
        try (TgtdTarget t = TgtdTarget.start(LUN_BYTES)) {
            List<DiscoveredTarget> found = initiator.discover(t.options().build());
            assertEquals(found.toString(), 1, found.size());
            assertEquals(TgtdTarget.TARGET, found.getFirst().name());
            assertEquals(t.tgtd.port(), found.getFirst().addresses().getFirst().port());

            try (Session session = initiator.login(t.options().build()); Arena arena = Arena.ofShared()) {
                assertEquals("tcp", session.transport());
                assertEquals(List.of(0, 1), session.reportLuns());
                BlockDevice lun = session.open(1);
                assertEquals(LUN_BYTES / 512, lun.blockCount());

                // 4 MiB in 32 KiB commands: 128 writes in flight, then 128 reads.
                long bytes = 4L << 20;
                MemorySegment written = Support.pattern(arena, bytes, 20261126);
                Support.writeAll(lun, 0, written, 32 << 10);
                lun.flush();
                Support.assertBackingFileStarts(t.lunFile, written);
                Support.assertLunHolds(lun, arena, 0, written, 32 << 10);
                assertTrue("NOP-Out ping round trip", session.ping() > 0);
            }
        }
    }
}
