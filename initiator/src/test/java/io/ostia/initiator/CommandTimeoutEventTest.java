package io.ostia.initiator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ostia.api.ScsiRequest;
import io.ostia.api.ScsiResult;
import io.ostia.api.Session;
import io.ostia.api.scsi.Cdb;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A command the target never answers (tgtd frozen with SIGSTOP: its connection stays open, nothing
 * comes back) produces the {@code io.ostia.CommandTimeout} JFR event with the target, the command
 * and the timeout; the session does not hang once the target runs again.
 */
class CommandTimeoutEventTest {

    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(1);

    @TempDir
    Path dir;

    @Test
    void anUnansweredCommandIsRecordedWithItsFields() throws Exception {
        Path jfr = dir.resolve("timeout.jfr");
        try (TgtdPeer f = TgtdPeer.start(dir, Peer.Config.of(1 << 20));
             Recording recording = new Recording();
             Arena arena = Arena.ofShared()) {
            recording.enable("io.ostia.CommandTimeout");
            recording.start();
            Session session = f.initiator.login(f.options().commandTimeout(COMMAND_TIMEOUT)
                    .taskManagementTimeout(Duration.ofSeconds(1)).nopInterval(Duration.ZERO)
                    .replacementTimeout(Duration.ofSeconds(20)).build());
            session.open(f.lun());
            MemorySegment block = arena.allocate(512);
            byte[] cdb = Cdb.read(7, 1);
            f.tgtd.pause();
            CompletableFuture<ScsiResult> read;
            try {
                read = session.execute(ScsiRequest.read(f.lun(), cdb, block));
                // The sweeper looks every 250 ms: the event is there within the timeout and a little.
                Thread.sleep(COMMAND_TIMEOUT.toMillis() + 1_500);
            } finally {
                f.tgtd.resume();
            }
            try {
                read.get(60, TimeUnit.SECONDS); // answered again after recovery, or failed: either way, not hung
            } catch (ExecutionException e) {
                assertTrue(e.getCause().getMessage() != null, e::toString);
            }
            session.close();
            recording.stop();
            recording.dump(jfr);
            List<RecordedEvent> timeouts = RecordingFile.readAllEvents(jfr).stream()
                    .filter(e -> e.getEventType().getName().equals("io.ostia.CommandTimeout")).toList();
            assertEquals(1, timeouts.size(), timeouts::toString);
            RecordedEvent e = timeouts.getFirst();
            assertEquals(TgtdPeer.TARGET, e.getString("target"));
            assertTrue(e.getString("command").contains(String.format("opcode 0x%02x on LUN %d", cdb[0] & 0xff, f.lun())),
                    e.getString("command"));
            assertTrue(e.getString("command").contains("ITT"), "a sent command names its task tag: " + e.getString("command"));
            assertEquals(COMMAND_TIMEOUT.toMillis(), e.getLong("timeout"));
        }
    }
}
