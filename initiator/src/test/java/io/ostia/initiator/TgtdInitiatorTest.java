package io.ostia.initiator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ostia.api.BlockDevice;
import io.ostia.api.IscsiException;
import io.ostia.api.Session;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The contract against Linux tgtd, plus what only a target we can freeze shows. */
class TgtdInitiatorTest extends InitiatorContractTest {

    @Override
    TgtdPeer start(Peer.Config config) throws Exception {
        return TgtdPeer.start(dir, config);
    }

    @Test
    void hungTargetGetsAbortsThenAConnectionResetAndTheSessionRecovers() throws Exception {
        try (TgtdPeer f = start(Peer.Config.of(LUN_BYTES));
             Arena arena = Arena.ofShared();
             Session session = f.initiator.login(f.options().commandTimeout(Duration.ofMillis(1500))
                     .taskManagementTimeout(Duration.ofMillis(500)).nopInterval(Duration.ZERO)
                     .replacementTimeout(Duration.ofSeconds(30)).build())) {
            BlockDevice lun = session.open(f.lun());
            MemorySegment buffer = arena.allocate(64 * 1024);
            f.tgtd.pause();
            CompletableFuture<Void> stuck = lun.readAsync(0, buffer);
            ExecutionException e = assertThrows(ExecutionException.class, () -> stuck.get(20, TimeUnit.SECONDS));
            assertInstanceOf(IscsiException.class, e.getCause());
            assertTrue(e.getCause().getMessage().contains("timed out"), e.getCause().getMessage());
            f.tgtd.resume();
            // The session reconnects with the same ISID; I/O works again without a new login by the user.
            fill(buffer, 5);
            lun.write(0, buffer);
            MemorySegment back = arena.allocate(buffer.byteSize());
            lun.read(0, back);
            assertEquals(-1L, buffer.mismatch(back));
            assertTrue(session.isOpen());
        }
    }

    @Test
    void theReplacementTimeoutBoundsALoginInProgress() throws Exception {
        // A frozen target accepts TCP connections (the kernel does) but never answers the login:
        // recovery must give up at the replacement timeout, not after a 15 s login timeout (issue 12).
        try (TgtdPeer f = start(Peer.Config.of(LUN_BYTES));
             Arena arena = Arena.ofShared();
             Session session = f.initiator.login(f.options().commandTimeout(Duration.ofMillis(1500))
                     .taskManagementTimeout(Duration.ofMillis(500)).nopInterval(Duration.ZERO)
                     .loginTimeout(Duration.ofSeconds(15)).replacementTimeout(Duration.ofSeconds(3)).build())) {
            BlockDevice lun = session.open(f.lun());
            MemorySegment buffer = arena.allocate(4096);
            f.tgtd.pause();
            try {
                CompletableFuture<Void> stuck = lun.readAsync(0, buffer);
                assertThrows(ExecutionException.class, () -> stuck.get(20, TimeUnit.SECONDS));
                long failedBy = System.nanoTime() + Duration.ofSeconds(10).toNanos();
                while (session.isOpen() && System.nanoTime() < failedBy) {
                    Thread.sleep(50);
                }
                assertFalse(session.isOpen(), "the session failed within 10 s of its command's failure "
                        + "(3 s replacement timeout, while a login would wait 15 s)");
            } finally {
                f.tgtd.resume();
            }
        }
    }

    @Test
    void targetThatAnswersGarbageFailsTheLoginNamingTheProblem() throws Exception {
        try (java.net.ServerSocket garbage = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
             TgtdPeer f = start(Peer.Config.of(1 << 20))) {
            Thread peer = Thread.ofVirtual().start(() -> {
                try (java.net.Socket s = garbage.accept()) {
                    s.getInputStream().readNBytes(48);
                    byte[] nonsense = new byte[96];
                    java.util.Arrays.fill(nonsense, (byte) 0x7e);
                    s.getOutputStream().write(nonsense);
                    s.getOutputStream().flush();
                    s.getInputStream().read();
                } catch (java.io.IOException ignored) {
                    // the initiator hangs up on us: that is the point
                }
            });
            IscsiException e = assertThrows(IscsiException.class, () -> f.initiator.login(f.options()
                    .portal("127.0.0.1", garbage.getLocalPort()).loginTimeout(Duration.ofSeconds(5)).build()));
            assertTrue(e.getMessage().contains("pcode") || e.getMessage().contains("Opcode")
                    || String.valueOf(e.getCause()).contains("pcode"), e.toString());
            peer.join(Duration.ofSeconds(5));
        }
    }

}
