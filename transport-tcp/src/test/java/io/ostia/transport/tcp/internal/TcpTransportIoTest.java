package io.ostia.transport.tcp.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ostia.api.pdu.DataIn;
import io.ostia.api.pdu.Pdu;
import io.ostia.api.pdu.ScsiResponse;
import io.ostia.api.scsi.Cdb;
import io.ostia.transport.tcp.TcpTransportOptions;
import java.io.RandomAccessFile;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Writes and reads through the TCP transport against Linux tgtd, with multi-MiB commands so
 * that R2Ts, Data-Out sequences, multi-PDU Data-In and unsolicited data are all exercised,
 * and compares the bytes with tgtd's backing file itself.
 */
class TcpTransportIoTest {

    private static final int MIB = 1 << 20;

    @TempDir
    static Path workDir;
    private static TgtdFixture tgtd;
    private static TcpTransport transport;

    @BeforeAll
    static void startTarget() throws Exception {
        tgtd = TgtdFixture.start(workDir, "io");
        transport = new TcpTransport(TcpTransportOptions.defaults(), () -> { });
    }

    @AfterAll
    static void stopTarget() {
        if (transport != null) {
            transport.close();
        }
        if (tgtd != null) {
            tgtd.close();
        }
    }

    static Stream<Arguments> variants() {
        return Stream.of(
                Arguments.of(false, false, true, true, 1),
                Arguments.of(false, false, false, true, 1),
                Arguments.of(false, false, true, false, 1),
                Arguments.of(false, false, false, false, 1),
                Arguments.of(true, true, true, true, 1),
                Arguments.of(true, true, true, false, 4),
                Arguments.of(true, false, false, true, 1),
                Arguments.of(false, true, false, false, 1),
                Arguments.of(false, false, true, true, 8));
    }

    @ParameterizedTest(name = "headerDigest={0} dataDigest={1} immediateData={2} initialR2T={3} maxOutstandingR2T={4}")
    @MethodSource("variants")
    void writesAndReadsMatchTheBackingFile(boolean headerDigest, boolean dataDigest, boolean immediateData,
            boolean initialR2T, int maxOutstandingR2T) throws Exception {
        TestInitiator.Offer offer = new TestInitiator.Offer(headerDigest, dataDigest, immediateData, initialR2T,
                65536, 262144, 262144, maxOutstandingR2T);
        long seed = (headerDigest ? 8 : 0) + (dataDigest ? 4 : 0) + (immediateData ? 2 : 0) + (initialR2T ? 1 : 0)
                + (maxOutstandingR2T > 1 ? 16 : 0);
        long lba = seed % 15 * (4L * MIB) / TestInitiator.BLOCK;
        try (Arena arena = Arena.ofShared(); TestInitiator initiator = new TestInitiator(transport, tgtd.address())) {
            initiator.login(tgtd.target.iqn(), offer);
            assertEquals(headerDigest ? "CRC32C" : "None", initiator.answered.get("HeaderDigest"));
            assertEquals(dataDigest ? "CRC32C" : "None", initiator.answered.get("DataDigest"));
            assertEquals(initialR2T ? "Yes" : "No", initiator.answered.get("InitialR2T"));
            assertEquals(Integer.toString(maxOutstandingR2T), initiator.answered.get("MaxOutstandingR2T"));
            MemorySegment written = TestInitiator.pattern(arena, 4 * MIB, seed);
            // One 4 MiB command (many R2Ts), then 3 MiB in 512 KiB commands, 4 in flight.
            initiator.write(lba, written.asSlice(0, 4 * MIB), 4 * MIB, 1);
            MemorySegment again = TestInitiator.pattern(arena, 3 * MIB, seed + 100);
            initiator.write(lba, again, 512 * 1024, 4);
            MemorySegment.copy(again, 0, written, 0, again.byteSize());

            assertArrayEquals(written.toArray(ValueLayout.JAVA_BYTE), backingFile(lba, 4 * MIB),
                    "tgtd's backing file holds what was written");

            MemorySegment read = arena.allocate(4 * MIB, 8);
            initiator.read(lba, read, 4 * MIB, 1);
            assertTrue(read.mismatch(written) < 0, () -> "read back differs at byte " + read.mismatch(written));
            MemorySegment readSmall = arena.allocate(4 * MIB, 8);
            initiator.read(lba, readSmall, 256 * 1024, 8);
            assertTrue(readSmall.mismatch(written) < 0, () -> "read back differs at byte " + readSmall.mismatch(written));
            assertTrue(initiator.owner.failures.isEmpty(), () -> "no failure: " + initiator.owner.failures);
            assertTrue(initiator.owner.windowUpdates.get() > 0, "Data-In and R2T moved the command window");
        }
    }

    @ParameterizedTest(name = "dataDigest={0}")
    @MethodSource("digestSwitch")
    void statusArrivesOnlyAfterDataIsInTheBuffer(boolean dataDigest) throws Exception {
        try (Arena arena = Arena.ofShared(); TestInitiator initiator = new TestInitiator(transport, tgtd.address())) {
            initiator.login(tgtd.target.iqn(), new TestInitiator.Offer(dataDigest, dataDigest, true, true, 65536,
                    262144, 262144, 1));
            MemorySegment inquiry = arena.allocate(96);
            int itt = initiator.submit(Cdb.inquiry(-1, 96), true, false, inquiry);
            Pdu status = initiator.await(itt);
            if (status instanceof DataIn dataIn) {
                assertEquals(0, dataIn.status());
            }
            // Standard INQUIRY: peripheral device type 0 (disk), vendor "IET" as tgtd reports it.
            assertEquals(0, inquiry.get(ValueLayout.JAVA_BYTE, 0) & 0x1f);
            String vendor = new String(inquiry.asSlice(8, 8).toArray(ValueLayout.JAVA_BYTE)).trim();
            assertTrue(!vendor.isEmpty(), "vendor id present");
        }
    }

    /**
     * A session reissues commands from the completion of their predecessors, on the receive
     * thread, as libiscsi's event loop does; the transport batches those header-only commands
     * until the thread reads again. Every one must still go out, in order with the writes (PDUs
     * with data, never held back) that the same thread sends among them, and every read must
     * see what was written.
     */
    @Test
    void commandsSentFromTheReceiveThreadAllGoOut() throws Exception {
        int blocksPerCommand = 8;
        int slots = 16;
        int total = 3000;
        int span = 256; // distinct 4 KiB extents the chain reads and rewrites
        try (Arena arena = Arena.ofShared(); TestInitiator initiator = new TestInitiator(transport, tgtd.address())) {
            initiator.login(tgtd.target.iqn(), TestInitiator.Offer.plain());
            int extent = blocksPerCommand * TestInitiator.BLOCK;
            MemorySegment pattern = TestInitiator.pattern(arena, span * extent, 4242);
            long firstLba = 60L * MIB / TestInitiator.BLOCK;
            initiator.write(firstLba, pattern, 64 * 1024, 4);

            MemorySegment[] buffers = new MemorySegment[slots];
            Map<Integer, int[]> inFlight = new ConcurrentHashMap<>(); // ITT -> {slot, extent, write?1:0}
            AtomicInteger issued = new AtomicInteger();
            AtomicInteger writes = new AtomicInteger();
            CountDownLatch finished = new CountDownLatch(total);
            List<String> problems = new CopyOnWriteArrayList<>();
            Set<String> submitters = ConcurrentHashMap.newKeySet();
            java.util.function.IntConsumer[] next = new java.util.function.IntConsumer[1];
            next[0] = slot -> {
                int n = issued.getAndIncrement();
                if (n >= total) {
                    return;
                }
                int at = Math.floorMod(n * 37, span);
                // Writes in the first half only: the second half's reads leave only through the flush.
                boolean write = n % 8 == 7 && n < total / 2;
                MemorySegment buffer = buffers[slot];
                if (write) {
                    buffer.copyFrom(pattern.asSlice((long) at * extent, extent));
                    writes.incrementAndGet();
                }
                long lba = firstLba + (long) at * blocksPerCommand;
                submitters.add(Thread.currentThread().getName());
                try {
                    int itt = initiator.peekItt();
                    inFlight.put(itt, new int[] {slot, at, write ? 1 : 0});
                    initiator.submit(write ? Cdb.write10(lba, blocksPerCommand) : Cdb.read10(lba, blocksPerCommand),
                            !write, write, buffer);
                } catch (Exception e) {
                    problems.add("submit " + n + " failed: " + e);
                }
            };
            initiator.owner.onPdu = pdu -> {
                int itt;
                int status;
                if (pdu instanceof DataIn dataIn && dataIn.statusPresent()) {
                    itt = dataIn.initiatorTaskTag();
                    status = dataIn.status();
                } else if (pdu instanceof ScsiResponse response) {
                    itt = response.initiatorTaskTag();
                    status = response.response() == 0 ? response.status() : -1;
                } else {
                    return false;
                }
                int[] task = inFlight.remove(itt);
                if (task == null) {
                    problems.add("status for unknown task " + Integer.toHexString(itt));
                } else if (status != 0) {
                    problems.add("task " + Integer.toHexString(itt) + " ended with status " + status);
                } else if (task[2] == 0) {
                    long mismatch = buffers[task[0]].mismatch(pattern.asSlice((long) task[1] * extent, extent));
                    if (mismatch >= 0) {
                        problems.add("read of extent " + task[1] + " differs at byte " + mismatch);
                    }
                }
                finished.countDown();
                if (task != null) {
                    next[0].accept(task[0]);
                }
                return true;
            };
            synchronized (initiator) { // the first commands go out together; the chain takes over from there
                for (int slot = 0; slot < slots; slot++) {
                    buffers[slot] = arena.allocate(extent, 4096);
                    next[0].accept(slot);
                }
            }
            assertTrue(finished.await(TestInitiator.TIMEOUT.toSeconds(), TimeUnit.SECONDS),
                    () -> finished.getCount() + " of " + total + " commands never completed; problems: " + problems
                            + (initiator.owner.failures.isEmpty() ? "" : "; failures: " + initiator.owner.failures));
            assertEquals(List.of(), problems);
            assertTrue(initiator.owner.failures.isEmpty(), () -> "no failure: " + initiator.owner.failures);
            assertTrue(writes.get() > total / 20, "writes with data were mixed in: " + writes.get());
            assertTrue(submitters.stream().anyMatch(name -> name.startsWith("ostia-tcp-rx-")),
                    () -> "commands were sent from the receive thread: " + submitters);
        }
    }

    /**
     * Stop in the middle of large writes and reads: when stop returns the receive thread, the
     * only one that touches buffers outside a caller's sendTask, has ended, so the buffers can
     * be freed at once, and no owner call follows.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("stopModes")
    void stopDuringLargeTransfersLetsGoOfEveryBuffer(io.ostia.api.spi.StopMode mode) throws Exception {
        int threadsBefore = Leaks.receiveThreads();
        TestInitiator initiator = new TestInitiator(transport, tgtd.address());
        initiator.login(tgtd.target.iqn(), TestInitiator.Offer.plain());
        Arena arena = Arena.ofShared();
        for (int i = 0; i < 4; i++) {
            MemorySegment buffer = TestInitiator.pattern(arena, 4 * MIB, i);
            boolean read = i % 2 == 1;
            initiator.submit(read ? Cdb.read10(i * 8192L, 8192) : Cdb.write10(i * 8192L, 8192), read, !read, buffer);
        }
        initiator.connection.stop(mode);
        assertEquals(threadsBefore, Leaks.receiveThreads(), "stop returned after the receive thread ended");
        int calls = initiator.owner.received.size() + initiator.owner.windowUpdates.get();
        arena.close();
        Thread.sleep(200);
        assertEquals(calls, initiator.owner.received.size() + initiator.owner.windowUpdates.get(),
                "no owner call after stop returned");
        assertTrue(initiator.owner.failures.isEmpty(), () -> "a stop is no failure: " + initiator.owner.failures);
        initiator.endpoint.disconnect();
        initiator.connection.destroy();
    }

    static Stream<io.ostia.api.spi.StopMode> stopModes() {
        return Stream.of(io.ostia.api.spi.StopMode.values());
    }

    static Stream<Boolean> digestSwitch() {
        return Stream.of(false, true);
    }

    private static byte[] backingFile(long lba, int length) throws Exception {
        byte[] bytes = new byte[length];
        try (RandomAccessFile file = new RandomAccessFile(tgtd.backingFile.toFile(), "r")) {
            file.seek(lba * TestInitiator.BLOCK);
            file.readFully(bytes);
        }
        return bytes;
    }
}
