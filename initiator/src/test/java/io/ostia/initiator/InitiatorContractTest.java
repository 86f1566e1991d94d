package io.ostia.initiator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ostia.api.AuthenticationException;
import io.ostia.api.BlockDevice;
import io.ostia.api.ChapCredentials;
import io.ostia.api.DigestPolicy;
import io.ostia.api.text.DiscoveredTarget;
import io.ostia.api.IscsiException;
import io.ostia.api.LoginException;
import io.ostia.api.ScsiException;
import io.ostia.api.ScsiRequest;
import io.ostia.api.Session;
import io.ostia.api.scsi.Capacity;
import io.ostia.api.scsi.Cdb;
import io.ostia.api.scsi.AdditionalSense;
import io.ostia.api.scsi.SenseKey;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The initiator end to end over TCP against a real target; subclasses name the target (Linux
 * tgtd, Ostia's embedded target) and add what only that target can show.
 */
abstract class InitiatorContractTest {
    static final long LUN_BYTES = 64L << 20;

    @TempDir
    Path dir;

    /** Starts the target under test. */
    abstract Peer start(Peer.Config config) throws Exception;

    @Test
    void discoversTheTargetAndItsLun() throws Exception {
        try (Peer f = start(Peer.Config.of(LUN_BYTES))) {
            List<DiscoveredTarget> targets = f.initiator.discover(f.options().build());
            assertEquals(1, targets.size(), targets::toString);
            assertEquals(f.targetName(), targets.getFirst().name());
            assertEquals(f.port(), targets.getFirst().addresses().getFirst().port());
            try (Session session = f.initiator.login(f.options().build())) {
                assertEquals(f.allLuns(), session.reportLuns());
                BlockDevice lun = session.open(f.lun());
                assertEquals(LUN_BYTES / 512, lun.blockCount());
                assertEquals(512, lun.blockSize());
                assertEquals(f.vendor(), lun.inquiry().vendor());
                assertTrue(session.ping() > 0);
            }
        }
    }

    @ParameterizedTest(name = "digests {0}/{1}, ImmediateData {2}, InitialR2T {3}")
    @CsvSource({
            "NONE, NONE, true, false",
            "REQUIRE_CRC32C, REQUIRE_CRC32C, true, false",
            "NONE, NONE, false, true",
            "REQUIRE_CRC32C, NONE, false, false"})
    void writesAcrossTheLunWithManyInFlightAndReadsThemBack(DigestPolicy header, DigestPolicy data,
                                                             boolean immediateData, boolean initialR2T) throws Exception {
        try (Peer f = start(Peer.Config.of(LUN_BYTES));
             Session session = f.initiator.login(f.options().headerDigest(header).dataDigest(data)
                     .immediateData(immediateData).initialR2T(initialR2T).firstBurstLength(65536).build());
             Arena arena = Arena.ofShared()) {
            assertEquals(header == DigestPolicy.NONE ? "None" : "CRC32C", session.negotiatedParameters().get("HeaderDigest"));
            BlockDevice lun = session.open(f.lun());
            int chunk = 1 << 20; // 1 MiB per command: several R2T bursts and Data-In PDUs each
            int commands = (int) (LUN_BYTES / chunk);
            MemorySegment pattern = arena.allocate(LUN_BYTES, 4096);
            fill(pattern, header.ordinal() * 31L + data.ordinal() + (immediateData ? 7 : 0));
            List<CompletableFuture<Void>> writes = new ArrayList<>();
            for (int i = 0; i < commands; i++) {
                writes.add(lun.writeAsync((long) i * chunk / 512, pattern.asSlice((long) i * chunk, chunk)));
            }
            CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
            lun.flush();
            assertFileEquals(f.lunFile(), pattern);

            MemorySegment readBack = arena.allocate(LUN_BYTES, 4096);
            List<CompletableFuture<Void>> reads = new ArrayList<>();
            for (int i = 0; i < commands; i++) {
                reads.add(lun.readAsync((long) i * chunk / 512, readBack.asSlice((long) i * chunk, chunk)));
            }
            CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
            assertEquals(-1L, pattern.mismatch(readBack), "read-back differs from what was written");
        }
    }

    @Test
    void slotsReissuedFromTheirListenersWriteAndReadBackVerifiedBytes() throws Exception {
        try (Peer f = start(Peer.Config.of(LUN_BYTES));
             Session session = f.initiator.login(f.options().build());
             Arena arena = Arena.ofShared()) {
            BlockDevice lun = session.open(f.lun());
            int chunk = 4096;
            MemorySegment image = arena.allocate(chunk * 256L, 4096);
            fill(image, 815);
            throughSlots(lun, arena, image, chunk, true);
            MemorySegment readBack = arena.allocate(image.byteSize(), 4096);
            throughSlots(lun, arena, readBack, chunk, false);
            assertEquals(-1, image.mismatch(readBack), "the bytes written through slots read back through slots");
            assertThrows(IllegalArgumentException.class, () -> lun.slot(arena.allocate(700), (slot, error) -> { }),
                    "a buffer of no whole number of blocks");
        }
    }

    /**
     * Moves {@code image} to or from the LUN's first bytes, a {@code chunk} per command, through
     * 8 slots, each reissued from its listener with the next of its chunks.
     */
    private static void throughSlots(BlockDevice lun, Arena arena, MemorySegment image, int chunk, boolean write)
            throws Exception {
        int slots = 8;
        int chunks = (int) (image.byteSize() / chunk);
        java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(slots);
        java.util.concurrent.atomic.AtomicReference<Throwable> failure = new java.util.concurrent.atomic.AtomicReference<>();
        int[] at = new int[slots];
        for (int i = 0; i < slots; i++) {
            int s = i;
            MemorySegment buffer = arena.allocate(chunk, 4096);
            at[s] = s;
            BlockDevice.Slot slot = lun.slot(buffer, (self, error) -> {
                if (error != null) {
                    failure.compareAndSet(null, error);
                    done.countDown();
                    return;
                }
                if (!write) {
                    MemorySegment.copy(buffer, 0, image, (long) at[s] * chunk, chunk);
                }
                at[s] += slots;
                if (at[s] >= chunks) {
                    done.countDown();
                } else {
                    issue(self, image, (long) at[s] * chunk, write, lun.blockSize());
                }
            });
            issue(slot, image, (long) s * chunk, write, lun.blockSize());
        }
        assertTrue(done.await(30, TimeUnit.SECONDS), "the slots finished within 30 s");
        if (failure.get() != null) {
            throw new AssertionError("a slot's transfer failed", failure.get());
        }
    }

    private static void issue(BlockDevice.Slot slot, MemorySegment image, long offset, boolean write, int blockSize) {
        if (write) {
            MemorySegment.copy(image, offset, slot.buffer(), 0, slot.buffer().byteSize());
            slot.write(offset / blockSize);
        } else {
            slot.read(offset / blockSize);
        }
    }

    /**
     * More commands than the queue depth, from several threads and from completions on the
     * receive thread: those that wait are pumped as room frees up, including a command queued
     * just as the last one in flight completes (a wake-up that must not be lost).
     */
    @Test
    void commandsBeyondTheQueueDepthAllComplete() throws Exception {
        try (Peer f = start(Peer.Config.of(LUN_BYTES));
             Session session = f.initiator.login(f.options().queueDepth(2).build());
             Arena arena = Arena.ofShared()) {
            BlockDevice lun = session.open(f.lun());
            int threads = 4;
            int perThread = 400;
            List<CompletableFuture<Void>> all = java.util.Collections.synchronizedList(new ArrayList<>());
            List<Thread> callers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                MemorySegment buffer = arena.allocate(4096, 4096);
                long base = t * 1024L;
                callers.add(Thread.ofPlatform().start(() -> {
                    for (int i = 0; i < perThread; i++) {
                        long lba = base + i % 128 * 8;
                        // Every other command reissues one more from its completion, as a workload does.
                        CompletableFuture<Void> read = lun.readAsync(lba, buffer);
                        all.add(i % 2 == 0 ? read : read.thenCompose(v -> lun.readAsync(lba, buffer)));
                    }
                }));
            }
            for (Thread caller : callers) {
                caller.join(30_000);
                assertFalse(caller.isAlive(), "caller finished submitting");
            }
            CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
            assertEquals(threads * perThread, all.size());
        }
    }

    /**
     * Closing a session with commands in flight and more waiting beyond the queue depth lets
     * them all finish first, then logs out: every write lands, and the close does not wait
     * longer than the commands take (completions wake the drain; it does not sleep in steps).
     */
    @Test
    void closeLetsCommandsInFlightAndWaitingFinish() throws Exception {
        try (Peer f = start(Peer.Config.of(LUN_BYTES)); Arena arena = Arena.ofShared()) {
            Session session = f.initiator.login(f.options().queueDepth(4).build());
            BlockDevice lun = session.open(f.lun());
            int chunk = 256 * 1024;
            int commands = 48;
            MemorySegment pattern = arena.allocate((long) chunk * commands, 4096);
            fill(pattern, 4711);
            List<CompletableFuture<Void>> writes = new ArrayList<>();
            for (int i = 0; i < commands; i++) {
                writes.add(lun.writeAsync((long) i * chunk / 512, pattern.asSlice((long) i * chunk, chunk)));
            }
            long start = System.nanoTime();
            session.close();
            long closeMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            for (CompletableFuture<Void> w : writes) {
                assertTrue(w.isDone(), "close returned with a write still open");
                w.get(); // throws if the write failed rather than finished
            }
            assertFalse(session.isOpen());
            assertTrue(closeMillis < 10_000, "close took " + closeMillis + " ms");
            MemorySegment onDisk = arena.allocate(pattern.byteSize(), 4096);
            try (FileChannel channel = FileChannel.open(f.lunFile(), StandardOpenOption.READ)) {
                ByteBuffer into = onDisk.asByteBuffer();
                while (into.hasRemaining() && channel.read(into, into.position()) >= 0) {
                    // a file read may return less than asked
                }
            }
            assertEquals(-1L, pattern.mismatch(onDisk), "the target holds every write made before close");
        }
    }

    /**
     * A blocking call made on the thread that delivers the session's answers would wait for
     * itself until the command timeout and recovery: it fails at once, naming the mistake, and
     * the session goes on working. The action is a slot's listener, given before the read goes
     * out, so it can only run where the answer is delivered; a future's action attached after the
     * call returns runs on the caller instead whenever the answer came first.
     */
    @Test
    void aBlockingCallFromACompletionFailsAtOnce() throws Exception {
        try (Peer f = start(Peer.Config.of(LUN_BYTES));
             Session session = f.initiator.login(f.options().build());
             Arena arena = Arena.ofShared()) {
            BlockDevice lun = session.open(f.lun());
            MemorySegment buffer = arena.allocate(4096, 4096);
            CompletableFuture<String> outcome = new CompletableFuture<>();
            BlockDevice.Slot slot = lun.slot(arena.allocate(4096, 4096), (self, failure) -> {
                if (failure != null) {
                    outcome.complete("the slot's read failed: " + failure);
                    return;
                }
                try {
                    lun.read(8, buffer);
                    outcome.complete("the blocking read returned");
                } catch (IllegalStateException e) {
                    outcome.complete(e.getMessage());
                } catch (IscsiException e) {
                    outcome.complete("the blocking read failed otherwise: " + e);
                }
            });
            slot.read(0);
            String seen = outcome.get(10, TimeUnit.SECONDS);
            assertTrue(seen.contains("transport thread"), () -> "outcome: " + seen);
            lun.read(8, buffer); // from this thread, as before
            assertTrue(session.isOpen());
        }
    }

    @Test
    void smallUnalignedMixOfCommandsAndASingleBlock() throws Exception {
        try (Peer f = start(Peer.Config.of(LUN_BYTES));
             Session session = f.initiator.login(f.options().build());
             Arena arena = Arena.ofShared()) {
            BlockDevice lun = session.open(f.lun());
            MemorySegment one = arena.allocate(512);
            fill(one, 99);
            long last = lun.blockCount() - 1;
            lun.write(last, one);
            MemorySegment back = arena.allocate(512);
            lun.read(last, back);
            assertEquals(-1L, one.mismatch(back));
        }
    }

    @Test
    void vpdPagesAndSixteenByteCommands() throws Exception {
        try (Peer f = start(Peer.Config.of(LUN_BYTES));
             Session session = f.initiator.login(f.options().build());
             Arena arena = Arena.ofShared()) {
            BlockDevice lun = session.open(f.lun());
            MemorySegment page = arena.allocate(255);
            session.executeOrThrow(ScsiRequest.read(f.lun(), Cdb.inquiry(0x00, 255), page));
            int count = page.get(ValueLayout.JAVA_BYTE, 3);
            List<Integer> pages = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                pages.add(page.get(ValueLayout.JAVA_BYTE, 4 + i) & 0xff);
            }
            assertTrue(pages.containsAll(List.of(0x00, 0x80, 0x83)), "supported VPD pages " + pages);
            session.executeOrThrow(ScsiRequest.read(f.lun(), Cdb.inquiry(0x80, 255), page));
            assertEquals(0x80, page.get(ValueLayout.JAVA_BYTE, 1) & 0xff);
            assertTrue(page.get(ValueLayout.JAVA_BYTE, 3) > 0, "an empty unit serial number");
            session.executeOrThrow(ScsiRequest.read(f.lun(), Cdb.inquiry(0x83, 255), page));
            assertEquals(0x83, page.get(ValueLayout.JAVA_BYTE, 1) & 0xff);
            assertTrue(page.get(ValueLayout.JAVA_BYTE, 3) >= 4, "no designator in the device identification page");

            MemorySegment capacity = arena.allocate(32);
            session.executeOrThrow(ScsiRequest.read(f.lun(), Cdb.readCapacity16(32), capacity));
            assertEquals(lun.capacity(), Capacity.parse16(capacity.toArray(ValueLayout.JAVA_BYTE), 32));

            MemorySegment data = arena.allocate(8 * lun.blockSize());
            fill(data, 16);
            session.executeOrThrow(ScsiRequest.write(f.lun(), Cdb.write16(24, 8), data));
            MemorySegment back = arena.allocate(data.byteSize());
            session.executeOrThrow(ScsiRequest.read(f.lun(), Cdb.read16(24, 8), back));
            assertEquals(-1L, data.mismatch(back));
            session.executeOrThrow(ScsiRequest.none(f.lun(), Cdb.synchronizeCache10()));
        }
    }

    @Test
    void lbaPastTheEndIsAnIllegalRequest() throws Exception {
        try (Peer f = start(Peer.Config.of(LUN_BYTES));
             Session session = f.initiator.login(f.options().build());
             Arena arena = Arena.ofShared()) {
            BlockDevice lun = session.open(f.lun());
            ScsiException e = assertThrows(ScsiException.class, () -> lun.read(lun.blockCount(), arena.allocate(4096)));
            assertEquals(SenseKey.ILLEGAL_REQUEST, e.sense().orElseThrow().key());
            assertEquals(AdditionalSense.LBA_OUT_OF_RANGE, e.sense().orElseThrow().additional());
            assertTrue(e.getMessage().contains("logical block address out of range"), e.getMessage());
            assertTrue(session.isOpen(), "a SCSI error must not end the session");
        }
    }

    @Test
    void unknownTargetIsNamedInTheError() throws Exception {
        try (Peer f = start(Peer.Config.of(LUN_BYTES))) {
            LoginException e = assertThrows(LoginException.class,
                    () -> f.initiator.login(f.options().targetName("iqn.2026-11.io.ostia.test:nobody").build()));
            assertEquals(2, e.statusClass());
            assertEquals(3, e.statusDetail());
            assertTrue(e.getMessage().contains("not found"), e.getMessage());
        }
    }

    @Test
    void oneWayChap() throws Exception {
        try (Peer f = start(Peer.Config.of(LUN_BYTES).withChap(ChapCredentials.oneWay("ostia-user", "ostia-secret-1")))) {
            try (Session session = f.initiator.login(f.options().chap(ChapCredentials.oneWay("ostia-user", "ostia-secret-1")).build())) {
                assertEquals(f.lun(), session.open(f.lun()).lun());
            }
            AuthenticationException wrong = assertThrows(AuthenticationException.class, () -> f.initiator.login(
                    f.options().chap(ChapCredentials.oneWay("ostia-user", "not-the-secret")).build()));
            assertTrue(wrong.getMessage().contains("authentication failure"), wrong.getMessage());
            LoginException none = assertThrows(LoginException.class, () -> f.initiator.login(f.options().build()));
            assertEquals(2, none.statusClass(), none.getMessage());
        }
    }

    @Test
    void discoveryWithChapCredentialsWhereTheTargetHasNoDiscoveryAccount() throws Exception {
        // As libiscsi's iscsi-ls with iscsi://user%secret@host: CHAP,None is offered and the target takes None.
        ChapCredentials chap = ChapCredentials.oneWay("ostia-user", "ostia-secret-1");
        try (Peer f = start(Peer.Config.of(LUN_BYTES).withChap(chap))) {
            List<DiscoveredTarget> targets = f.initiator.discover(f.options().chap(chap).build());
            assertEquals(List.of(f.targetName()), targets.stream().map(DiscoveredTarget::name).toList());
        }
    }

    @Test
    void mutualChap() throws Exception {
        ChapCredentials good = ChapCredentials.mutual("ostia-user", "ostia-secret-1", "target-user", "target-secret-2");
        try (Peer f = start(Peer.Config.of(LUN_BYTES).withChap(good))) {
            try (Session session = f.initiator.login(f.options().chap(good).build())) {
                assertTrue(session.isOpen());
            }
            ChapCredentials impostor = ChapCredentials.mutual("ostia-user", "ostia-secret-1", "target-user", "what-we-expect");
            AuthenticationException e = assertThrows(AuthenticationException.class,
                    () -> f.initiator.login(f.options().chap(impostor).build()));
            assertTrue(e.getMessage().contains("target"), e.getMessage());
        }
    }

    @Test
    void targetKilledMidIoFailsCommandsWithinTheReplacementTimeout() throws Exception {
        try (Peer f = start(Peer.Config.of(LUN_BYTES));
             Arena arena = Arena.ofShared()) {
            Session session = f.initiator.login(f.options().replacementTimeout(Duration.ofSeconds(2))
                    .nopInterval(Duration.ofMillis(500)).nopTimeout(Duration.ofSeconds(1)).build());
            BlockDevice lun = session.open(f.lun());
            MemorySegment buffer = arena.allocate(1 << 20);
            List<CompletableFuture<Void>> inFlight = new ArrayList<>();
            for (int i = 0; i < 32; i++) {
                inFlight.add(lun.writeAsync((long) i * 2048, buffer));
            }
            f.kill();
            long start = System.nanoTime();
            for (CompletableFuture<Void> w : inFlight) {
                try {
                    w.get(30, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    assertInstanceOf(IscsiException.class, e.getCause());
                }
            }
            IscsiException after = assertThrows(IscsiException.class, () -> lun.read(0, buffer.asSlice(0, 512)));
            assertTrue(after.getMessage().contains("replacement timeout") || after.getMessage().contains("closed"),
                    after.getMessage());
            assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(20), "failure took too long");
            assertFalse(session.isOpen());
            session.close();
        }
    }

    static void fill(MemorySegment segment, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        for (long i = 0; i < segment.byteSize(); i += 8) {
            segment.set(ValueLayout.JAVA_LONG_UNALIGNED, i, random.nextLong());
        }
    }

    private static void assertFileEquals(Path file, MemorySegment expected) throws Exception {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            assertEquals(expected.byteSize(), channel.size());
            ByteBuffer actual = ByteBuffer.allocateDirect((int) expected.byteSize());
            while (actual.hasRemaining() && channel.read(actual) >= 0) {
                // read all
            }
            actual.flip();
            assertEquals(-1L, MemorySegment.ofBuffer(actual).mismatch(expected), "the target's backing file differs from what was written");
        }
    }
}
