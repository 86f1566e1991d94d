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
    void writesTheTargetSolicitsAllocateLittlePerWrite() throws Exception {
        // tgtd takes 8 KiB of immediate data and solicits the rest of a 64 KiB write with an R2T,
        // answered by seven Data-Out PDUs. Each once cost a PDU object, a slice and a ByteBuffer
        // (about 2,260 heap bytes per write in all, issue 14); now the header is encoded from a
        // view of the task buffer reused across them. Counted over compiled and warmed-up code.
        var threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        org.junit.jupiter.api.Assumptions.assumeTrue(threads.isThreadAllocatedMemorySupported(),
                "this JVM does not count the bytes its threads allocate");
        threads.setThreadAllocatedMemoryEnabled(true);
        try (TgtdPeer f = start(Peer.Config.of(LUN_BYTES));
             Arena arena = Arena.ofShared();
             Session session = f.initiator.login(f.options().build())) {
            BlockDevice lun = session.open(f.lun());
            int depth = 8;
            MemorySegment[] buffers = new MemorySegment[depth];
            for (int i = 0; i < depth; i++) {
                buffers[i] = arena.allocate(64 * 1024);
                fill(buffers[i], i);
            }
            int writes = 4000;
            writeChains(lun, buffers, writes); // warm-up: the JIT compiles the path
            long before = threads.getTotalThreadAllocatedBytes();
            writeChains(lun, buffers, writes);
            long perWrite = (threads.getTotalThreadAllocatedBytes() - before) / writes;
            assertTrue(perWrite < 1600, perWrite + " heap bytes per 64 KiB write (at most 1,600 expected)");
        }
    }

    /** {@code count} writes of the buffers at successive offsets, each slot issuing its next from its completion. */
    private static void writeChains(BlockDevice lun, MemorySegment[] buffers, int count) throws Exception {
        java.util.concurrent.atomic.AtomicInteger issued = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(buffers.length);
        java.util.concurrent.atomic.AtomicReference<Throwable> failure = new java.util.concurrent.atomic.AtomicReference<>();
        long blocks = buffers[0].byteSize() / lun.blockSize();
        long slots = lun.blockCount() / blocks;
        java.util.List<java.util.function.BiConsumer<Void, Throwable>> next = new java.util.ArrayList<>();
        for (int slot = 0; slot < buffers.length; slot++) {
            MemorySegment buffer = buffers[slot];
            next.add(null);
            int s = slot;
            next.set(slot, (ok, error) -> {
                int n = issued.getAndIncrement();
                if (error != null || n >= count) {
                    if (error != null) {
                        failure.compareAndSet(null, error);
                    }
                    done.countDown();
                    return;
                }
                lun.writeAsync(n % slots * blocks, buffer).whenComplete(next.get(s));
            });
        }
        next.forEach(start -> start.accept(null, null));
        assertTrue(done.await(60, TimeUnit.SECONDS), "the writes finished within 60 s");
        if (failure.get() != null) {
            throw new AssertionError("a write failed", failure.get());
        }
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
