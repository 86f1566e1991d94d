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
import io.ostia.api.Session;
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

/** The initiator end to end against Linux tgtd over TCP. */
class TgtdInitiatorTest {
    private static final long LUN_BYTES = 64L << 20;

    @TempDir
    Path dir;

    @Test
    void discoversTheTargetAndItsLun() throws Exception {
        try (TgtdFixture f = TgtdFixture.start(dir, LUN_BYTES)) {
            List<DiscoveredTarget> targets = f.initiator.discover(f.options().build());
            assertEquals(1, targets.size(), targets::toString);
            assertEquals(TgtdFixture.TARGET, targets.getFirst().name());
            assertEquals(f.tgtd.port(), targets.getFirst().addresses().getFirst().port());
            try (Session session = f.initiator.login(f.options().build())) {
                assertEquals(List.of(0, 1), session.reportLuns());
                BlockDevice lun = session.open(1);
                assertEquals(LUN_BYTES / 512, lun.blockCount());
                assertEquals(512, lun.blockSize());
                assertEquals("IET", lun.inquiry().vendor());
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
        try (TgtdFixture f = TgtdFixture.start(dir, LUN_BYTES, "HeaderDigest=CRC32C,None", "DataDigest=CRC32C,None");
             Session session = f.initiator.login(f.options().headerDigest(header).dataDigest(data)
                     .immediateData(immediateData).initialR2T(initialR2T).firstBurstLength(65536).build());
             Arena arena = Arena.ofShared()) {
            assertEquals(header == DigestPolicy.NONE ? "None" : "CRC32C", session.negotiatedParameters().get("HeaderDigest"));
            BlockDevice lun = session.open(1);
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
            assertFileEquals(f.lunFile, pattern);

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
    void smallUnalignedMixOfCommandsAndASingleBlock() throws Exception {
        try (TgtdFixture f = TgtdFixture.start(dir, LUN_BYTES);
             Session session = f.initiator.login(f.options().build());
             Arena arena = Arena.ofShared()) {
            BlockDevice lun = session.open(1);
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
    void lbaPastTheEndIsAnIllegalRequest() throws Exception {
        try (TgtdFixture f = TgtdFixture.start(dir, LUN_BYTES);
             Session session = f.initiator.login(f.options().build());
             Arena arena = Arena.ofShared()) {
            BlockDevice lun = session.open(1);
            ScsiException e = assertThrows(ScsiException.class, () -> lun.read(lun.blockCount(), arena.allocate(4096)));
            assertEquals(SenseKey.ILLEGAL_REQUEST, e.sense().orElseThrow().key());
            assertEquals(AdditionalSense.LBA_OUT_OF_RANGE, e.sense().orElseThrow().additional());
            assertTrue(e.getMessage().contains("logical block address out of range"), e.getMessage());
            assertTrue(session.isOpen(), "a SCSI error must not end the session");
        }
    }

    @Test
    void unknownTargetIsNamedInTheError() throws Exception {
        try (TgtdFixture f = TgtdFixture.start(dir, LUN_BYTES)) {
            LoginException e = assertThrows(LoginException.class,
                    () -> f.initiator.login(f.options().targetName("iqn.2026-11.io.ostia.test:nobody").build()));
            assertEquals(2, e.statusClass());
            assertEquals(3, e.statusDetail());
            assertTrue(e.getMessage().contains("not found"), e.getMessage());
        }
    }

    @Test
    void oneWayChap() throws Exception {
        try (TgtdFixture f = TgtdFixture.start(dir, LUN_BYTES)) {
            f.tgtd.requireChap(f.target, "ostia-user", "ostia-secret-1");
            try (Session session = f.initiator.login(f.options().chap(ChapCredentials.oneWay("ostia-user", "ostia-secret-1")).build())) {
                assertEquals(1, session.open(1).lun());
            }
            AuthenticationException wrong = assertThrows(AuthenticationException.class, () -> f.initiator.login(
                    f.options().chap(ChapCredentials.oneWay("ostia-user", "not-the-secret")).build()));
            assertTrue(wrong.getMessage().contains("authentication failure"), wrong.getMessage());
            LoginException none = assertThrows(LoginException.class, () -> f.initiator.login(f.options().build()));
            assertEquals(2, none.statusClass(), none.getMessage());
        }
    }

    @Test
    void mutualChap() throws Exception {
        try (TgtdFixture f = TgtdFixture.start(dir, LUN_BYTES)) {
            f.tgtd.requireChap(f.target, "ostia-user", "ostia-secret-1");
            f.tgtd.mutualChap(f.target, "target-user", "target-secret-2");
            ChapCredentials good = ChapCredentials.mutual("ostia-user", "ostia-secret-1", "target-user", "target-secret-2");
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
        try (TgtdFixture f = TgtdFixture.start(dir, LUN_BYTES);
             Arena arena = Arena.ofShared()) {
            Session session = f.initiator.login(f.options().replacementTimeout(Duration.ofSeconds(2))
                    .nopInterval(Duration.ofMillis(500)).nopTimeout(Duration.ofSeconds(1)).build());
            BlockDevice lun = session.open(1);
            MemorySegment buffer = arena.allocate(1 << 20);
            List<CompletableFuture<Void>> inFlight = new ArrayList<>();
            for (int i = 0; i < 32; i++) {
                inFlight.add(lun.writeAsync((long) i * 2048, buffer));
            }
            f.tgtd.kill();
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

    @Test
    void hungTargetGetsAbortsThenAConnectionResetAndTheSessionRecovers() throws Exception {
        try (TgtdFixture f = TgtdFixture.start(dir, LUN_BYTES);
             Arena arena = Arena.ofShared();
             Session session = f.initiator.login(f.options().commandTimeout(Duration.ofMillis(1500))
                     .taskManagementTimeout(Duration.ofMillis(500)).nopInterval(Duration.ZERO)
                     .replacementTimeout(Duration.ofSeconds(30)).build())) {
            BlockDevice lun = session.open(1);
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
    void targetThatAnswersGarbageFailsTheLoginNamingTheProblem() throws Exception {
        try (java.net.ServerSocket garbage = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
             TgtdFixture f = TgtdFixture.start(dir, 1 << 20)) {
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

    private static void fill(MemorySegment segment, long seed) {
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
            assertEquals(-1L, MemorySegment.ofBuffer(actual).mismatch(expected), "tgtd's backing file differs from what was written");
        }
    }
}
