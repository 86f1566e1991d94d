package io.ostia.target.internal.scsi;

import io.ostia.api.scsi.AdditionalSense;
import io.ostia.api.scsi.ScsiStatus;
import io.ostia.api.scsi.SenseData;
import io.ostia.api.scsi.SenseKey;
import io.ostia.target.internal.store.RamStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;

import static io.ostia.target.internal.scsi.UnitTestSupport.A;
import static io.ostia.target.internal.scsi.UnitTestSupport.B;
import static io.ostia.target.internal.scsi.UnitTestSupport.assertSense;
import static io.ostia.target.internal.scsi.UnitTestSupport.cdb;
import static io.ostia.target.internal.scsi.UnitTestSupport.rw16;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class LogicalUnitTest {

    private static final int BLOCKS = 2048;
    private final LogicalUnit lu = new LogicalUnit(0, new RamStore(BLOCKS * 512L, 512, false), "SN0001", 0x1234);
    private final ScsiTask task = new ScsiTask();

    @AfterEach
    void close() throws Exception {
        lu.close();
    }

    private ScsiTask run(Nexus nexus, byte[] cdb, byte[] out, int inLength) {
        return UnitTestSupport.run(task, lu, nexus, cdb, out, inLength);
    }

    private byte[] dataIn() {
        return UnitTestSupport.dataIn(task);
    }

    private static byte[] rw10(int op, long lba, int blocks) {
        return cdb(op, 0, (int) (lba >>> 24), (int) (lba >>> 16), (int) (lba >>> 8), (int) lba, 0, blocks >>> 8, blocks, 0);
    }

    @Test
    void writeThenReadReturnsTheData() {
        byte[] data = new byte[1024];
        Arrays.fill(data, (byte) 0x5a);
        assertEquals(ScsiStatus.GOOD, run(A, rw10(0x2a, 10, 2), data, 0).status());
        assertEquals(1024, task.transferLength());
        run(A, rw16(0x88, 10, 2), null, 1024);
        assertEquals(ScsiStatus.GOOD, task.status());
        assertArrayEquals(data, dataIn());
        // READ(6): 21-bit LBA, 0 means 256 blocks
        run(A, cdb(0x08, 0, 0, 10, 2, 0), null, 1024);
        assertArrayEquals(data, dataIn());
    }

    @Test
    void writeAndVerifyWritesAndPreFetchChecksTheRange() {
        byte[] data = new byte[512];
        Arrays.fill(data, (byte) 0x42);
        byte[] wav = rw10(0x2e, 7, 1);
        wav[1] = 0x02; // BYTCHK
        assertEquals(ScsiStatus.GOOD, run(A, wav, data, 0).status());
        run(A, rw10(0x28, 7, 1), null, 512);
        assertArrayEquals(data, dataIn());
        assertEquals(ScsiStatus.GOOD, run(A, rw16(0x90, BLOCKS - 2, 2), null, 0).status());
        assertSense(run(A, rw10(0x34, BLOCKS - 1, 2), null, 0), SenseKey.ILLEGAL_REQUEST,
                AdditionalSense.LBA_OUT_OF_RANGE);
    }

    @Test
    void readPastTheEndIsLbaOutOfRange() {
        assertSense(run(A, rw10(0x28, BLOCKS - 1, 2), null, 1024), SenseKey.ILLEGAL_REQUEST, AdditionalSense.LBA_OUT_OF_RANGE);
        assertSense(run(A, rw16(0x88, -1L, 1), null, 512), SenseKey.ILLEGAL_REQUEST, AdditionalSense.LBA_OUT_OF_RANGE);
        assertEquals(ScsiStatus.GOOD, run(A, rw10(0x28, BLOCKS, 0), null, 0).status(), "zero blocks at the end is fine");
    }

    @Test
    void protectionFieldsAreInvalidWithAFieldPointer() {
        byte[] c = rw10(0x28, 0, 1);
        c[1] = (byte) 0x20;
        run(A, c, null, 512);
        assertSense(task, SenseKey.ILLEGAL_REQUEST, AdditionalSense.INVALID_FIELD_IN_CDB);
        SenseData sense = SenseData.decode(task.sense().encodeFixed(), 0, 18);
        assertEquals(0x80_0000 | 0x40_0000 | 0x08_0000 | 7 << 16 | 1, sense.keySpecific());
    }

    @Test
    void unknownOpcodeIsInvalidCommandOperationCode() {
        assertSense(run(A, cdb(0xc7, 0, 0, 0, 0, 0), null, 0), SenseKey.ILLEGAL_REQUEST,
                AdditionalSense.INVALID_COMMAND_OPERATION_CODE);
    }

    @Test
    void readCapacityReportsGeometryAndProvisioning() {
        run(A, cdb(0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0), null, 8);
        assertEquals(BLOCKS - 1, Bytes.u32(dataIn(), 0));
        assertEquals(512, Bytes.u32(dataIn(), 4));
        byte[] c = new byte[16];
        c[0] = (byte) 0x9e;
        c[1] = 0x10;
        c[13] = 32;
        run(A, c, null, 32);
        assertEquals(BLOCKS - 1, Bytes.u64(dataIn(), 0));
        assertEquals(0xc0, dataIn()[14] & 0xc0, "LBPME and LBPRZ");
    }

    @Test
    void inquiryServesStandardDataAndEveryVpdPage() {
        run(A, cdb(0x12, 0, 0, 0, 255, 0), null, 255);
        assertEquals(ScsiStatus.GOOD, task.status());
        assertEquals("OSTIA   ", LogicalUnit.ascii(dataIn(), 8, 8));
        assertEquals(66, task.dataInLength());
        run(A, cdb(0x12, 1, 0, 0, 255, 0), null, 255);
        assertArrayEquals(cdb(0, 0, 0, 6, 0, 0x80, 0x83, 0xb0, 0xb1, 0xb2), dataIn());
        for (int page : Inquiry.PAGES) {
            run(A, cdb(0x12, 1, page, 0, 255, 0), null, 255);
            assertEquals(ScsiStatus.GOOD, task.status(), "page " + page);
            assertEquals(page, dataIn()[1] & 0xff);
            assertEquals(task.dataInLength() - 4, Bytes.u16(dataIn(), 2));
        }
        run(A, cdb(0x12, 1, 0x80, 0, 255, 0), null, 255);
        assertEquals("SN0001", LogicalUnit.ascii(dataIn(), 4, 6));
        assertSense(run(A, cdb(0x12, 1, 0x99, 0, 255, 0), null, 255), SenseKey.ILLEGAL_REQUEST,
                AdditionalSense.INVALID_FIELD_IN_CDB);
        run(A, cdb(0x12, 0, 0, 0, 10, 0), null, 255);
        assertEquals(10, task.dataInLength(), "allocation length truncates");
    }

    @Test
    void writeSameUnmapAndCompareAndWrite() {
        byte[] block = new byte[512];
        Arrays.fill(block, (byte) 7);
        assertEquals(ScsiStatus.GOOD, run(A, rw10(0x41, 100, 4), block, 0).status());
        run(A, rw10(0x28, 100, 4), null, 2048);
        byte[] four = new byte[2048];
        Arrays.fill(four, (byte) 7);
        assertArrayEquals(four, dataIn());

        byte[] unmap = new byte[24];
        Bytes.put16(unmap, 0, 22);
        Bytes.put16(unmap, 2, 16);
        Bytes.put64(unmap, 8, 101);
        Bytes.put32(unmap, 16, 2);
        assertEquals(ScsiStatus.GOOD, run(A, cdb(0x42, 0, 0, 0, 0, 0, 0, 0, 24, 0), unmap, 0).status());
        run(A, rw10(0x28, 100, 4), null, 2048);
        assertEquals(7, dataIn()[0]);
        assertEquals(0, dataIn()[512]);
        assertEquals(0, dataIn()[1535]);
        assertEquals(7, dataIn()[1536]);

        byte[] caw = new byte[1024];
        Arrays.fill(caw, 0, 512, (byte) 7);
        Arrays.fill(caw, 512, 1024, (byte) 9);
        byte[] c = rw16(0x89, 100, 0);
        c[13] = 1;
        assertEquals(ScsiStatus.GOOD, run(A, c, caw, 0).status());
        assertSense(run(A, c, caw, 0), SenseKey.MISCOMPARE, AdditionalSense.MISCOMPARE_DURING_VERIFY);
        assertEquals(0L, task.sense().information().getAsLong(), "first differing byte");
    }

    @Test
    void verifyWithByteCheckReportsTheMiscompareOffset() {
        byte[] data = new byte[512];
        data[300] = 1;
        byte[] c = rw10(0x2f, 5, 1);
        c[1] = 0x02;
        assertSense(run(A, c, data, 0), SenseKey.MISCOMPARE, AdditionalSense.MISCOMPARE_DURING_VERIFY);
        assertEquals(300L, task.sense().information().getAsLong());
        data[300] = 0;
        assertEquals(ScsiStatus.GOOD, run(A, c, data, 0).status());
    }

    @Test
    void readOnlyUnitRefusesWritesWithDataProtect() throws Exception {
        try (LogicalUnit ro = new LogicalUnit(1, new RamStore(1 << 20, 512, true), "RO", 1)) {
            task.reset(rw10(0x2a, 0, 1), A, MemorySegment.ofArray(new byte[512]), null);
            ro.execute(task);
            assertSense(task, SenseKey.DATA_PROTECT, AdditionalSense.WRITE_PROTECTED);
            task.reset(cdb(0x1a, 0, 0x3f, 0, 255, 0), A, null, MemorySegment.ofArray(new byte[255]));
            ro.execute(task);
            assertEquals(0x80, task.dataIn().get(ValueLayout.JAVA_BYTE, 2) & 0x80, "WP bit in MODE SENSE");
        }
    }

    @Test
    void modeSenseSavedValuesAreNotSupported() {
        assertSense(run(A, cdb(0x1a, 0, 0xff, 0, 255, 0), null, 255), SenseKey.ILLEGAL_REQUEST,
                AdditionalSense.SAVING_PARAMETERS_NOT_SUPPORTED);
        run(A, cdb(0x5a, 0, 0x3f, 0, 0, 0, 0, 1, 0, 0), null, 256);
        assertEquals(ScsiStatus.GOOD, task.status());
        assertEquals(task.dataInLength() - 2, Bytes.u16(dataIn(), 0));
    }

    private ScsiTask prOut(Nexus n, int sa, int type, long key, long saKey) {
        byte[] p = new byte[24];
        Bytes.put64(p, 0, key);
        Bytes.put64(p, 8, saKey);
        return run(n, cdb(0x5f, sa, type, 0, 0, 0, 0, 0, 24, 0), p, 0);
    }

    @Test
    void persistentReservationsAreKeyedByNexus() {
        assertEquals(ScsiStatus.GOOD, prOut(A, 0, 0, 0, 0xaaL).status());
        assertEquals(ScsiStatus.GOOD, prOut(B, 0, 0, 0, 0xbbL).status());
        assertEquals(ScsiStatus.RESERVATION_CONFLICT, prOut(B, 1, 3, 0xaaL, 0).status(), "wrong key");
        assertEquals(ScsiStatus.GOOD, prOut(A, 1, 1, 0xaaL, 0).status()); // Write Exclusive
        assertEquals(ScsiStatus.RESERVATION_CONFLICT, run(B, rw10(0x2a, 0, 1), new byte[512], 0).status());
        assertEquals(ScsiStatus.GOOD, run(B, rw10(0x28, 0, 1), null, 512).status(), "reads pass Write Exclusive");
        assertEquals(ScsiStatus.GOOD, run(A, rw10(0x2a, 0, 1), new byte[512], 0).status());

        run(A, cdb(0x5e, 0, 0, 0, 0, 0, 0, 0, 255, 0), null, 255);
        assertEquals(16, Bytes.u32(dataIn(), 4), "two keys");
        run(A, cdb(0x5e, 1, 0, 0, 0, 0, 0, 0, 255, 0), null, 255);
        assertEquals(0xaaL, Bytes.u64(dataIn(), 8));
        assertEquals(1, dataIn()[21]);
        run(A, cdb(0x5e, 3, 0, 0, 0, 0, 0, 0, 255, 0), null, 255);
        assertEquals(ScsiStatus.GOOD, task.status());

        // B preempts A: A's registration goes and A sees REGISTRATIONS PREEMPTED.
        assertEquals(ScsiStatus.GOOD, prOut(B, 4, 3, 0xbbL, 0xaaL).status());
        assertSense(run(A, cdb(0, 0, 0, 0, 0, 0), null, 0), SenseKey.UNIT_ATTENTION, AdditionalSense.REGISTRATIONS_PREEMPTED);
        assertEquals(ScsiStatus.RESERVATION_CONFLICT, run(A, rw10(0x28, 0, 1), null, 512).status(), "Exclusive Access now");
        assertEquals(ScsiStatus.GOOD, prOut(B, 3, 0, 0xbbL, 0).status()); // CLEAR
        assertEquals(ScsiStatus.GOOD, run(A, rw10(0x28, 0, 1), null, 512).status());
        assertSense(prOut(A, 7, 0, 0, 0), SenseKey.ILLEGAL_REQUEST, AdditionalSense.INVALID_FIELD_IN_CDB);
    }

    @Test
    void reserve6ConflictsForOtherNexusesUntilReleasedOrReset() {
        assertEquals(ScsiStatus.GOOD, run(A, cdb(0x16, 0, 0, 0, 0, 0), null, 0).status());
        assertEquals(ScsiStatus.RESERVATION_CONFLICT, run(B, cdb(0x16, 0, 0, 0, 0, 0), null, 0).status());
        assertEquals(ScsiStatus.RESERVATION_CONFLICT, run(B, cdb(0x1a, 0, 0x3f, 0, 255, 0), null, 255).status());
        lu.reset(List.of(A, B));
        assertSense(run(B, cdb(0x1a, 0, 0x3f, 0, 255, 0), null, 255), SenseKey.UNIT_ATTENTION, new AdditionalSense(0x29, 3));
        assertEquals(ScsiStatus.GOOD, run(B, cdb(0x16, 0, 0, 0, 0, 0), null, 0).status());
        assertNull(run(B, cdb(0x17, 0, 0, 0, 0, 0), null, 0).sense());
    }

    @Test
    void reportLunsAndSupportedOpcodes() {
        task.reset(cdb(0xa0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0), A, null, MemorySegment.ofArray(new byte[256]));
        LunlessCommands.reportLuns(task, new int[] {0, 1, 300});
        byte[] d = dataIn();
        assertEquals(24, Bytes.u32(d, 0));
        assertEquals(1, Bytes.u16(d, 16));
        assertEquals(0x4000 | 300, Bytes.u16(d, 24));
        // one command, READ(10): supported, 10-byte usage map starting with the opcode
        run(A, cdb(0xa3, 0x0c, 0x01, 0x28, 0, 0, 0, 0, 1, 0, 0, 0), null, 256);
        assertEquals(3, dataIn()[1] & 7);
        assertEquals(10, Bytes.u16(dataIn(), 2));
        assertEquals(0x28, dataIn()[4] & 0xff);
        // PERSISTENT RESERVE IN has service actions: option 1 is invalid for it
        assertSense(run(A, cdb(0xa3, 0x0c, 0x01, 0x5e, 0, 0, 0, 0, 1, 0, 0, 0), null, 256),
                SenseKey.ILLEGAL_REQUEST, AdditionalSense.INVALID_FIELD_IN_CDB);
        run(A, cdb(0xa3, 0x0c, 0x00, 0, 0, 0, 0, 0, 4, 0, 0, 0), null, 1024);
        assertEquals(task.dataInLength() - 4, Bytes.u32(dataIn(), 0));
    }

    @Test
    void noSuchLunAnswersInquiryWithQualifierThree() {
        task.reset(cdb(0x12, 0, 0, 0, 96, 0), A, null, MemorySegment.ofArray(new byte[96]));
        LunlessCommands.noSuchLun(task, new int[] {0});
        assertEquals(0x7f, dataIn()[0] & 0xff);
        task.reset(cdb(0x00, 0, 0, 0, 0, 0), A, null, null);
        LunlessCommands.noSuchLun(task, new int[] {0});
        assertSense(task, SenseKey.ILLEGAL_REQUEST, AdditionalSense.LOGICAL_UNIT_NOT_SUPPORTED);
    }

    @Test
    void orWriteOrsTheDataIntoTheBlocks() {
        byte[] first = new byte[1024];
        java.util.Arrays.fill(first, (byte) 0x0f);
        assertEquals(ScsiStatus.GOOD, run(A, rw16(0x8a, 10, 2), first, 0).status());
        byte[] second = new byte[1024];
        java.util.Arrays.fill(second, (byte) 0x30);
        assertEquals(ScsiStatus.GOOD, run(A, rw16(0x8b, 10, 2), second, 0).status());
        run(A, rw10(0x28, 10, 2), null, 1024);
        byte[] expected = new byte[1024];
        java.util.Arrays.fill(expected, (byte) 0x3f);
        assertArrayEquals(expected, dataIn());
        assertSense(run(A, rw16(0x8b, BLOCKS - 1, 2), new byte[1024], 0), SenseKey.ILLEGAL_REQUEST,
                AdditionalSense.LBA_OUT_OF_RANGE);
    }

    @Test
    void writeAtomicWritesAndItsLimitsAreInTheBlockLimitsPage() {
        byte[] c = new byte[16];
        c[0] = (byte) 0x9c;
        Bytes.put64(c, 2, 4);
        Bytes.put16(c, 12, 1);
        byte[] data = new byte[512];
        java.util.Arrays.fill(data, (byte) 0x5a);
        assertEquals(ScsiStatus.GOOD, run(A, c, data, 0).status());
        run(A, rw10(0x28, 4, 1), null, 512);
        assertArrayEquals(data, dataIn());
        run(A, cdb(0x12, 1, 0xb0, 0, 64, 0), null, 64);
        assertEquals(0, dataIn()[4] & 0x01, "WSNZ clear: WRITE SAME of 0 blocks runs to the end");
        assertEquals(0xffff, Bytes.u32(dataIn(), 44), "MAXIMUM ATOMIC TRANSFER LENGTH");
    }

    @Test
    void writeSameOfZeroBlocksRunsToTheEndAndTheUnmapBitDeallocates() {
        byte[] ones = new byte[512];
        java.util.Arrays.fill(ones, (byte) 0xff);
        assertEquals(ScsiStatus.GOOD, run(A, rw10(0x41, BLOCKS - 3, 0), ones, 0).status());
        run(A, rw10(0x28, BLOCKS - 3, 3), null, 1536);
        assertEquals((byte) 0xff, dataIn()[1535]);
        byte[] unmap = rw10(0x41, BLOCKS - 3, 0);
        unmap[1] = 0x08;
        assertEquals(ScsiStatus.GOOD, run(A, unmap, ones, 0).status());
        run(A, rw10(0x28, BLOCKS - 3, 3), null, 1536);
        assertArrayEquals(new byte[1536], dataIn(), "deallocated blocks read zero (LBPRZ)");
        assertSense(run(A, rw10(0x41, BLOCKS + 1, 0), ones, 0), SenseKey.ILLEGAL_REQUEST,
                AdditionalSense.LBA_OUT_OF_RANGE);
    }

    @Test
    void getLbaStatusReportsMappedAndDeallocatedRuns() {
        byte[] data = new byte[512 * 4];
        java.util.Arrays.fill(data, (byte) 'A');
        run(A, rw10(0x2a, 100, 4), data, 0);
        byte[] c = new byte[16];
        c[0] = (byte) 0x9e;
        c[1] = 0x12;
        Bytes.put64(c, 2, 100);
        Bytes.put32(c, 10, 24);
        assertEquals(ScsiStatus.GOOD, run(A, c, null, 24).status());
        assertEquals(100, Bytes.u64(dataIn(), 8));
        assertEquals(4, Bytes.u32(dataIn(), 16));
        assertEquals(0, dataIn()[20], "mapped");
        Bytes.put64(c, 2, 104);
        run(A, c, null, 24);
        assertEquals(1, dataIn()[20], "deallocated");
        Bytes.put64(c, 2, 0x8000_0000_0000_0000L);
        assertSense(run(A, c, null, 24), SenseKey.ILLEGAL_REQUEST, AdditionalSense.LBA_OUT_OF_RANGE);
    }

    @Test
    void readDefectDataReportsAnEmptyList() {
        assertEquals(ScsiStatus.GOOD, run(A, cdb(0x37, 0, 0x18, 0, 0, 0, 0, 0, 32, 0), null, 32).status());
        assertArrayEquals(new byte[] {0, 0x18, 0, 0}, dataIn());
        assertEquals(ScsiStatus.GOOD, run(A, cdb(0xb7, 0x0d, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0), null, 32).status());
        assertEquals(8, dataIn().length);
        assertEquals(0, Bytes.u32(dataIn(), 4));
    }

    @Test
    void aRemovableMediumEjectsUnlessPreventedAndReportsTheExponent() throws Exception {
        try (LogicalUnit removable = new LogicalUnit(2, new RamStore(1 << 20, 512, false), "RM", 2, 3, true)) {
            ScsiTask t = new ScsiTask();
            java.util.function.BiFunction<Nexus, byte[], ScsiTask> exec = (nexus, c) -> {
                t.reset(c, nexus, null, MemorySegment.ofArray(new byte[96]));
                removable.execute(t);
                return t;
            };
            exec.apply(A, cdb(0x12, 0, 0, 0, 96, 0));
            assertEquals(0x80, t.dataIn().get(ValueLayout.JAVA_BYTE, 1) & 0x80, "RMB");
            exec.apply(A, cdb(0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0));
            assertEquals(3, t.dataIn().get(ValueLayout.JAVA_BYTE, 13), "LOGICAL BLOCKS PER PHYSICAL BLOCK EXPONENT");
            assertEquals(ScsiStatus.GOOD, exec.apply(A, cdb(0x1e, 0, 0, 0, 1, 0)).status());
            assertSense(exec.apply(B, cdb(0x1b, 0, 0, 0, 0x02, 0)), SenseKey.ILLEGAL_REQUEST,
                    new AdditionalSense(0x53, 0x02));
            removable.nexusLost(A);
            assertEquals(ScsiStatus.GOOD, exec.apply(B, cdb(0x1b, 0, 0, 0, 0x02, 0)).status(), "eject");
            assertSense(exec.apply(B, cdb(0x00, 0, 0, 0, 0, 0)), SenseKey.NOT_READY, new AdditionalSense(0x3a, 0));
            assertEquals(ScsiStatus.GOOD, exec.apply(B, cdb(0x12, 0, 0, 0, 96, 0)).status(), "INQUIRY needs no medium");
            assertEquals(ScsiStatus.GOOD, exec.apply(B, cdb(0x1b, 0, 0, 0, 0x03, 0)).status(), "load");
            assertEquals(ScsiStatus.GOOD, exec.apply(B, cdb(0x00, 0, 0, 0, 0, 0)).status());
        }
    }
}
