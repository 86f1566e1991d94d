package io.ostia.target.internal.scsi;

import io.ostia.api.scsi.AdditionalSense;
import io.ostia.api.scsi.ScsiStatus;
import io.ostia.api.scsi.SenseKey;
import io.ostia.target.internal.store.BackingStore;
import io.ostia.target.internal.store.RamStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.List;

import static io.ostia.target.internal.scsi.UnitTestSupport.A;
import static io.ostia.target.internal.scsi.UnitTestSupport.B;
import static io.ostia.target.internal.scsi.UnitTestSupport.assertSense;
import static io.ostia.target.internal.scsi.UnitTestSupport.cdb;
import static io.ostia.target.internal.scsi.UnitTestSupport.rw16;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SANITIZE, the changeable SWP bit (MODE SELECT), EXTENDED COPY and RECEIVE COPY RESULTS on a
 * {@link LogicalUnit} over a RAM store.
 */
class ConformanceCommandsTest {

    private static final int BLOCKS = 2048;
    private final LogicalUnit lu = new LogicalUnit(0, new RamStore(BLOCKS * 512L, 512, false), "SN0001", 0x1234);
    private final ScsiTask task = new ScsiTask();

    @AfterEach
    void close() throws Exception {
        lu.close();
    }

    private ScsiTask run(LogicalUnit unit, Nexus nexus, byte[] cdb, byte[] out, int inLength) {
        return UnitTestSupport.run(task, unit, nexus, cdb, out, inLength);
    }

    private ScsiTask run(Nexus nexus, byte[] cdb, byte[] out, int inLength) {
        return run(lu, nexus, cdb, out, inLength);
    }

    private byte[] dataIn() {
        return UnitTestSupport.dataIn(task);
    }

    private static void assertGood(ScsiTask t) {
        assertEquals(ScsiStatus.GOOD, t.status(), () -> String.valueOf(t.sense()));
    }

    private static byte[] filled(int bytes, int value) {
        byte[] b = new byte[bytes];
        Arrays.fill(b, (byte) value);
        return b;
    }

    private static byte[] sanitize(int serviceAction, int flags, int parameterLength) {
        return cdb(0x48, flags | serviceAction, 0, 0, 0, 0, 0, parameterLength >>> 8, parameterLength, 0);
    }

    // ---------------------------------------------------------------- SANITIZE

    @Test
    void blockAndCryptographicEraseLeaveEveryBlockDeallocatedAndReadingZeros() {
        for (int serviceAction : new int[] {Sanitize.BLOCK_ERASE, Sanitize.CRYPTOGRAPHIC_ERASE}) {
            assertGood(run(A, rw16(0x8a, 0, 4), filled(2048, 'a'), 0));
            assertGood(run(A, rw16(0x8a, BLOCKS - 4, 4), filled(2048, 'a'), 0));
            assertGood(run(A, sanitize(serviceAction, 0, 0), null, 0));
            run(A, rw16(0x88, BLOCKS - 4, 4), null, 2048);
            assertArrayEquals(new byte[2048], dataIn());
            // GET LBA STATUS: one descriptor, deallocated, covering the whole LUN
            byte[] status = new byte[16];
            status[0] = (byte) 0x9e;
            status[1] = 0x12;
            Bytes.put32(status, 10, 256);
            assertGood(run(A, status, null, 256));
            byte[] d = dataIn();
            assertEquals(20, Bytes.u32(d, 0), "one descriptor");
            assertEquals(0, Bytes.u64(d, 8));
            assertEquals(BLOCKS, Bytes.u32(d, 16));
            assertEquals(1, d[20], "deallocated");
        }
    }

    @Test
    void sanitizeChecksItsCdbAndIsListedPerServiceAction() {
        assertSense(run(A, sanitize(Sanitize.BLOCK_ERASE, 0, 8), new byte[8], 0), SenseKey.ILLEGAL_REQUEST,
                AdditionalSense.INVALID_FIELD_IN_CDB);
        assertSense(run(A, sanitize(Sanitize.BLOCK_ERASE, 0x40, 0), null, 0), SenseKey.ILLEGAL_REQUEST,
                AdditionalSense.INVALID_FIELD_IN_CDB);
        byte[] reserved = sanitize(Sanitize.CRYPTOGRAPHIC_ERASE, 0, 0);
        reserved[4] = 4;
        assertSense(run(A, reserved, null, 0), SenseKey.ILLEGAL_REQUEST, AdditionalSense.INVALID_FIELD_IN_CDB);
        for (int sa : new int[] {0x00, 0x01, 0x04, 0x1e}) {
            assertSense(run(A, sanitize(sa, 0, 0), null, 0), SenseKey.ILLEGAL_REQUEST,
                    AdditionalSense.INVALID_FIELD_IN_CDB);
        }
        // REPORT SUPPORTED OPERATION CODES, one command: BLOCK ERASE yes, OVERWRITE no
        assertGood(run(A, cdb(0xa3, 0x0c, 0x02, 0x48, 0, 0x02, 0, 0, 1, 0, 0, 0), null, 256));
        assertEquals(0x03, dataIn()[1] & 0x07);
        assertGood(run(A, cdb(0xa3, 0x0c, 0x02, 0x48, 0, 0x01, 0, 0, 1, 0, 0, 0), null, 256));
        assertEquals(0x01, dataIn()[1] & 0x07);
        // Block Device Characteristics: reads after an erase succeed (WABEREQ, WACEREQ 01b)
        assertGood(run(A, cdb(0x12, 1, 0xb1, 0, 64, 0), null, 64));
        assertEquals(0x50, dataIn()[7] & 0xf0);
    }

    @Test
    void sanitizeConflictsWithAReservationOfAnotherNexus() {
        assertGood(run(B, cdb(0x16, 0, 0, 0, 0, 0), null, 0));
        assertEquals(ScsiStatus.RESERVATION_CONFLICT, run(A, sanitize(Sanitize.BLOCK_ERASE, 0, 0), null, 0).status());
    }

    @Test
    void aFailedEraseKeepsTheUnitInFailureModeUntilExitFailureModeOrAGoodErase() throws Exception {
        FailingUnmapStore store = new FailingUnmapStore(new RamStore(BLOCKS * 512L, 512, false));
        try (LogicalUnit unit = new LogicalUnit(1, store, "SN0002", 0x5678)) {
            // EXIT FAILURE MODE without a failure: nothing to leave
            assertGood(run(unit, A, sanitize(Sanitize.EXIT_FAILURE_MODE, 0, 0), null, 0));
            assertSense(run(unit, A, sanitize(Sanitize.EXIT_FAILURE_MODE, 0, 8), new byte[8], 0),
                    SenseKey.ILLEGAL_REQUEST, AdditionalSense.INVALID_FIELD_IN_CDB);

            store.failing = true;
            assertSense(run(unit, A, sanitize(Sanitize.BLOCK_ERASE, 0x20, 0), null, 0), SenseKey.MEDIUM_ERROR,
                    AdditionalSense.WRITE_ERROR); // AUSE 1
            AdditionalSense failed = new AdditionalSense(0x31, 0x03);
            assertSense(run(unit, A, rw16(0x88, 0, 1), null, 512), SenseKey.MEDIUM_ERROR, failed);
            assertGood(run(unit, A, sanitize(Sanitize.EXIT_FAILURE_MODE, 0, 0), null, 0));
            assertGood(run(unit, A, rw16(0x88, 0, 1), null, 512));

            // AUSE 0: EXIT FAILURE MODE is refused, a good erase ends the failure
            run(unit, A, sanitize(Sanitize.CRYPTOGRAPHIC_ERASE, 0, 0), null, 0);
            assertSense(run(unit, A, cdb(0, 0, 0, 0, 0, 0), null, 0), SenseKey.MEDIUM_ERROR, failed);
            assertSense(run(unit, A, sanitize(Sanitize.EXIT_FAILURE_MODE, 0, 0), null, 0), SenseKey.ILLEGAL_REQUEST,
                    AdditionalSense.INVALID_FIELD_IN_CDB);
            store.failing = false;
            assertGood(run(unit, A, sanitize(Sanitize.BLOCK_ERASE, 0, 0), null, 0));
            assertGood(run(unit, A, cdb(0, 0, 0, 0, 0, 0), null, 0));
        }
    }

    /** A RAM store whose medium fails to erase on demand: the one failure a sanitize can meet. */
    private static final class FailingUnmapStore implements BackingStore {
        private final BackingStore ram;
        volatile boolean failing;

        FailingUnmapStore(BackingStore ram) {
            this.ram = ram;
        }

        @Override public long sizeBytes() { return ram.sizeBytes(); }
        @Override public int blockSize() { return ram.blockSize(); }
        @Override public boolean readOnly() { return false; }
        @Override public void read(long offset, MemorySegment dst) throws IOException { ram.read(offset, dst); }
        @Override public void write(long offset, MemorySegment src) throws IOException { ram.write(offset, src); }
        @Override public void flush() throws IOException { ram.flush(); }
        @Override public void close() throws IOException { ram.close(); }

        @Override
        public void unmap(long offset, long length) throws IOException {
            if (failing) {
                throw new IOException("injected erase failure");
            }
            ram.unmap(offset, length);
        }
    }

    // ---------------------------------------------------------------- SWP

    private static final int CONTROL = 0x0a;

    /** MODE SENSE (6) of the control page: {@code pageControl} 0 current, 1 changeable. */
    private byte[] controlPage(Nexus nexus, int pageControl) {
        assertGood(run(nexus, cdb(0x1a, 0x08, pageControl << 6 | CONTROL, 0, 255, 0), null, 255));
        byte[] d = dataIn();
        return Arrays.copyOfRange(d, 0, Bytes.u8(d, 0) + 1);
    }

    private ScsiTask selectControlPage(Nexus nexus, byte[] sensed, boolean swp) {
        byte[] list = sensed.clone();
        list[0] = 0; // MODE DATA LENGTH is reserved in MODE SELECT
        list[2] = 0; // so is WP in the device-specific parameter
        list[4] &= 0x3f; // PS
        list[8] = (byte) (swp ? list[8] | 0x08 : list[8] & ~0x08);
        return run(nexus, cdb(0x15, 0x10, 0, 0, list.length, 0), list, 0);
    }

    @Test
    void swpIsChangeableAndWriteProtectsTheUnitForEveryNexus() {
        assertEquals(0x08, controlPage(A, 1)[8] & 0x08, "SWP changeable");
        byte[] current = controlPage(A, 0);
        assertEquals(0, current[8] & 0x08);
        assertGood(selectControlPage(B, current, true));
        assertSense(run(A, rw16(0x8a, 0, 1), new byte[512], 0), SenseKey.UNIT_ATTENTION,
                new AdditionalSense(0x2a, 0x01)); // MODE PARAMETERS CHANGED, to the other nexus
        assertSense(run(A, rw16(0x8a, 0, 1), new byte[512], 0), SenseKey.DATA_PROTECT,
                new AdditionalSense(0x27, 0x02));
        assertSense(run(A, sanitize(Sanitize.BLOCK_ERASE, 0, 0), null, 0), SenseKey.DATA_PROTECT,
                new AdditionalSense(0x27, 0x02));
        byte[] now = controlPage(A, 0);
        assertEquals(0x08, now[8] & 0x08);
        assertEquals(0x80, now[2] & 0x80, "WP in the device-specific parameter");
        assertGood(run(A, rw16(0x88, 0, 1), null, 512)); // reads go on
        assertGood(selectControlPage(B, now, false));
        assertGood(run(B, rw16(0x8a, 0, 1), new byte[512], 0));
    }

    @Test
    void modeSelectRefusesChangesToFieldsThatAreNotChangeable() {
        byte[] list = controlPage(A, 0);
        list[0] = 0;
        list[7] ^= 0x10; // QUEUE ALGORITHM MODIFIER
        assertSense(run(A, cdb(0x15, 0x10, 0, 0, list.length, 0), list, 0), SenseKey.ILLEGAL_REQUEST,
                AdditionalSense.INVALID_FIELD_IN_PARAMETER_LIST);
        assertSense(run(A, cdb(0x15, 0x11, 0, 0, list.length, 0), list, 0), SenseKey.ILLEGAL_REQUEST,
                AdditionalSense.INVALID_FIELD_IN_CDB); // SP: nothing is saved
        assertSense(run(A, cdb(0x15, 0x10, 0, 0, 2, 0), new byte[2], 0), SenseKey.ILLEGAL_REQUEST,
                AdditionalSense.PARAMETER_LIST_LENGTH_ERROR);
    }

    // ---------------------------------------------------------------- EXTENDED COPY

    /** The unit's NAA designator as INQUIRY VPD 0x83 reports it (the first descriptor). */
    private byte[] designator(LogicalUnit unit) {
        assertGood(run(unit, A, cdb(0x12, 1, 0x83, 0, 255, 0), null, 255));
        byte[] d = dataIn();
        assertEquals(0x03, d[5] & 0x0f, "NAA first");
        return Arrays.copyOfRange(d, 4, 8 + d[7]);
    }

    private static byte[] targetDescriptor(byte[] designation, int blockSize) {
        byte[] t = new byte[32];
        t[0] = (byte) 0xe4;
        System.arraycopy(designation, 0, t, 4, designation.length);
        t[29] = (byte) (blockSize >>> 16);
        t[30] = (byte) (blockSize >>> 8);
        t[31] = (byte) blockSize;
        return t;
    }

    private static byte[] segment(int source, int destination, int blocks, long sourceLba, long destinationLba) {
        byte[] s = new byte[28];
        s[0] = 0x02;
        Bytes.put16(s, 2, 24);
        Bytes.put16(s, 4, source);
        Bytes.put16(s, 6, destination);
        Bytes.put16(s, 10, blocks);
        Bytes.put64(s, 12, sourceLba);
        Bytes.put64(s, 20, destinationLba);
        return s;
    }

    private static byte[] copyList(int listId, int usage, List<byte[]> targets, List<byte[]> segments) {
        int t = targets.stream().mapToInt(b -> b.length).sum();
        int s = segments.stream().mapToInt(b -> b.length).sum();
        byte[] list = new byte[16 + t + s];
        list[0] = (byte) listId;
        list[1] = (byte) (usage << 3);
        Bytes.put16(list, 2, t);
        Bytes.put32(list, 8, s);
        int off = 16;
        for (byte[] b : targets) {
            System.arraycopy(b, 0, list, off, b.length);
            off += b.length;
        }
        for (byte[] b : segments) {
            System.arraycopy(b, 0, list, off, b.length);
            off += b.length;
        }
        return list;
    }

    private ScsiTask extendedCopy(LogicalUnit unit, Nexus nexus, byte[] list) {
        byte[] c = new byte[16];
        c[0] = (byte) 0x83;
        Bytes.put32(c, 10, list.length);
        return run(unit, nexus, c, list, 0);
    }

    private ScsiTask receiveCopyResults(Nexus nexus, int serviceAction, int listId) {
        byte[] c = new byte[16];
        c[0] = (byte) 0x84;
        c[1] = (byte) serviceAction;
        c[2] = (byte) listId;
        Bytes.put32(c, 10, 1024);
        return run(nexus, c, null, 1024);
    }

    @Test
    void extendedCopyCopiesBlocksWithinTheUnitAndHoldsItsStatus() {
        byte[] data = filled(16 * 512, 'A');
        assertGood(run(A, rw16(0x8a, 0, 16), data, 0));
        byte[] self = targetDescriptor(designator(lu), 512);
        assertSense(receiveCopyResults(A, 0, 7), SenseKey.ILLEGAL_REQUEST, AdditionalSense.INVALID_FIELD_IN_CDB);
        assertGood(extendedCopy(lu, A, copyList(7, 0, List.of(self), List.of(segment(0, 0, 16, 0, BLOCKS - 16)))));
        run(A, rw16(0x88, BLOCKS - 16, 16), null, data.length);
        assertArrayEquals(data, dataIn());

        assertGood(receiveCopyResults(A, 0, 7));
        byte[] status = dataIn();
        assertEquals(1, status[4], "completed without errors");
        assertEquals(1, Bytes.u16(status, 5), "segments processed");
        assertEquals(data.length, Bytes.u32(status, 8));
        // held per I_T nexus, and dropped with it
        assertSense(receiveCopyResults(B, 0, 7), SenseKey.ILLEGAL_REQUEST, AdditionalSense.INVALID_FIELD_IN_CDB);
        lu.nexusLost(A);
        assertSense(receiveCopyResults(A, 0, 7), SenseKey.ILLEGAL_REQUEST, AdditionalSense.INVALID_FIELD_IN_CDB);
    }

    @Test
    void extendedCopyReachesAnotherUnitThroughTheCopyTargets() throws Exception {
        try (LogicalUnit other = new LogicalUnit(1, new RamStore(BLOCKS * 512L, 512, false), "SN0003", 0x9abc)) {
            CopyTargets both = (type, d) -> lu.identifiedBy(type, d) ? lu : other.identifiedBy(type, d) ? other : null;
            lu.useCopyTargets(both);
            byte[] data = filled(8 * 512, 'B');
            assertGood(run(A, rw16(0x8a, 100, 8), data, 0));
            byte[] source = targetDescriptor(designator(lu), 512);
            byte[] destination = targetDescriptor(designator(other), 512);
            assertGood(extendedCopy(lu, A, copyList(0, 3, List.of(source, destination),
                    List.of(segment(0, 1, 8, 100, 5)))));
            run(other, A, rw16(0x88, 5, 8), null, data.length);
            assertArrayEquals(data, dataIn());
            // without the lookup, the other unit is out of reach
            lu.useCopyTargets((type, d) -> lu.identifiedBy(type, d) ? lu : null);
            assertSense(extendedCopy(lu, A, copyList(0, 3, List.of(source, destination),
                    List.of(segment(0, 1, 8, 100, 5)))), SenseKey.COPY_ABORTED, new AdditionalSense(0x0d, 0x02));
        }
    }

    @Test
    void extendedCopyRejectsBadListsWithTheRightSense() {
        byte[] self = targetDescriptor(designator(lu), 512);
        byte[] good = copyList(1, 0, List.of(self), List.of(segment(0, 0, 16, 0, 100)));
        assertSense(extendedCopy(lu, A, Arrays.copyOf(good, 16 + 31)), SenseKey.ILLEGAL_REQUEST,
                AdditionalSense.PARAMETER_LIST_LENGTH_ERROR);
        assertSense(extendedCopy(lu, A, Arrays.copyOf(good, good.length - 1)), SenseKey.ILLEGAL_REQUEST,
                AdditionalSense.PARAMETER_LIST_LENGTH_ERROR);
        byte[] fc = self.clone();
        fc[0] = (byte) 0xe0;
        assertSense(extendedCopy(lu, A, copyList(1, 0, List.of(fc), List.of(segment(0, 0, 1, 0, 1)))),
                SenseKey.ILLEGAL_REQUEST, new AdditionalSense(0x26, 0x07));
        byte[] streamSegment = new byte[20];
        streamSegment[0] = 0x03;
        assertSense(extendedCopy(lu, A, copyList(1, 0, List.of(self), List.of(streamSegment))),
                SenseKey.ILLEGAL_REQUEST, new AdditionalSense(0x26, 0x09));
        assertSense(extendedCopy(lu, A, copyList(1, 0, List.of(self, self, self, self, self),
                List.of(segment(0, 0, 1, 0, 1)))), SenseKey.ILLEGAL_REQUEST, new AdditionalSense(0x26, 0x06));
        assertSense(extendedCopy(lu, A, copyList(1, 0, List.of(self), List.of(segment(0, 1, 1, 0, 1)))),
                SenseKey.COPY_ABORTED, new AdditionalSense(0x08, 0x04));
        assertSense(extendedCopy(lu, A, copyList(1, 0, List.of(self), List.of(segment(0, 0, 16, 0, BLOCKS - 1)))),
                SenseKey.COPY_ABORTED, AdditionalSense.NONE);
        byte[] empty = new byte[16];
        empty[0] = (byte) 0x83;
        assertGood(run(A, empty, null, 0)); // no parameter list: nothing to do
    }

    @Test
    void operatingParametersStateTheLimitsTheCopyManagerEnforces() {
        assertGood(receiveCopyResults(A, 3, 0));
        byte[] d = dataIn();
        assertEquals(ExtendedCopy.MAX_TARGET_DESCRIPTORS, Bytes.u16(d, 8));
        assertEquals(ExtendedCopy.MAX_SEGMENT_DESCRIPTORS, Bytes.u16(d, 10));
        assertEquals(ExtendedCopy.MAX_DESCRIPTOR_LIST_LENGTH, Bytes.u32(d, 12));
        assertEquals(2, d[43]);
        assertTrue(d[44] == 0x02 && (d[45] & 0xff) == 0xe4, "block-to-block and identification descriptors");
        byte[] self = targetDescriptor(designator(lu), 512);
        List<byte[]> segments = java.util.Collections.nCopies(ExtendedCopy.MAX_SEGMENT_DESCRIPTORS + 1,
                segment(0, 0, 1, 0, 1));
        assertSense(extendedCopy(lu, A, copyList(1, 0, List.of(self), segments)), SenseKey.ILLEGAL_REQUEST,
                new AdditionalSense(0x26, 0x08));
    }
}
