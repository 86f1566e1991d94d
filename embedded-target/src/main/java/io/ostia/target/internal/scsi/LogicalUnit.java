package io.ostia.target.internal.scsi;

import io.ostia.api.scsi.AdditionalSense;
import io.ostia.api.scsi.Luns;
import io.ostia.api.scsi.ScsiOpcode;
import io.ostia.api.scsi.ScsiStatus;
import io.ostia.api.scsi.SenseData;
import io.ostia.api.scsi.SenseKey;
import io.ostia.target.internal.store.BackingStore;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * SBC-3 direct-access block device emulation over a {@link BackingStore}: the command set of
 * {@link CommandTable}, persistent reservations keyed by I_T nexus, unit attentions. Safe for
 * concurrent use by many connections.
 */
public final class LogicalUnit implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(LogicalUnit.class.getName());

    /** Largest single transfer: bounds every buffer a command can make the target allocate. */
    public static final int MAX_TRANSFER_BYTES = 256 << 20;
    static final int MAX_COMPARE_AND_WRITE_BLOCKS = 64;
    static final int MAX_UNMAP_DESCRIPTORS = 256;
    private static final AdditionalSense INVALID_FIELD_IN_INFORMATION_UNIT = new AdditionalSense(0x0e, 0x03);
    private static final AdditionalSense LUN_RESET_OCCURRED = new AdditionalSense(0x29, 0x03);

    private final int lun;
    private final BackingStore store;
    private final int blockSize;
    private final long blocks;
    private final String serial;
    private final byte[] naa;
    private final Reservations reservations;
    private final Map<Nexus, Deque<AdditionalSense>> unitAttentions = new HashMap<>();
    private volatile boolean attentionsPending;
    /** Writes share it; COMPARE AND WRITE takes it exclusively, which makes it atomic. */
    private final ReadWriteLock atomicity = new ReentrantReadWriteLock();
    private final ModePages modePages;

    /**
     * @param lun    the LUN number (0..{@link Luns#MAX_FLAT_LUN})
     * @param store  the backing store; closed with this unit
     * @param serial unit serial number (VPD 0x80), printable ASCII
     * @param naaId  the 64 low bits of the NAA IEEE Registered Extended designator, unique per LU
     */
    public LogicalUnit(int lun, BackingStore store, String serial, long naaId) {
        if (lun < 0 || lun > Luns.MAX_FLAT_LUN) {
            throw new IllegalArgumentException(
                    "LUN must be in 0.." + Luns.MAX_FLAT_LUN + " (flat addressing), not " + lun);
        }
        this.lun = lun;
        this.store = store;
        this.blockSize = store.blockSize();
        this.blocks = store.sizeBytes() / blockSize;
        this.serial = serial;
        this.naa = new byte[16];
        // NAA 6, IEEE company id 0x000000 (not registered: locally administered value), vendor-specific
        Bytes.put64(naa, 0, 0x6000_0000_0000_0000L | (naaId >>> 36 & 0xf_ffff_fffL));
        Bytes.put64(naa, 8, naaId);
        this.reservations = new Reservations(this::addUnitAttention);
        this.modePages = new ModePages(store.readOnly(), store.volatileWriteCache());
    }

    public int lun() {
        return lun;
    }

    public long blockCount() {
        return blocks;
    }

    public int blockSize() {
        return blockSize;
    }

    @Override
    public void close() throws IOException {
        store.close();
    }

    // ---------------------------------------------------------------- dispatch

    /** Executes {@code task}; never throws: every failure becomes a status and sense data. */
    public void execute(ScsiTask task) {
        try {
            int op = task.opcode();
            Nexus nexus = task.nexus();
            if (attentionsPending && op != ScsiOpcode.INQUIRY && op != ScsiOpcode.REPORT_LUNS
                    && op != ScsiOpcode.REQUEST_SENSE) {
                AdditionalSense ua = takeUnitAttention(nexus);
                if (ua != null) {
                    throw ScsiStatusException.check(SenseKey.UNIT_ATTENTION, ua);
                }
            }
            CommandTable.Entry entry = CommandTable.find(task.cdb());
            if (entry == null) {
                throw ScsiStatusException.illegal(AdditionalSense.INVALID_COMMAND_OPERATION_CODE);
            }
            if (entry.reservationClass() != CommandTable.ALLOWED && reservationConflict(nexus, entry)) {
                throw ScsiStatusException.reservationConflict();
            }
            dispatch(task, op);
        } catch (ScsiStatusException e) {
            task.fail(e);
        } catch (IOException e) {
            boolean write = CommandTable.writes(task.opcode());
            LOG.log(Level.ERROR, "LUN " + lun + ": backing store " + (write ? "write" : "read")
                    + " failed for opcode 0x" + Integer.toHexString(task.opcode()), e);
            task.fail(ScsiStatus.CHECK_CONDITION, SenseData.of(SenseKey.MEDIUM_ERROR,
                    write ? AdditionalSense.WRITE_ERROR : AdditionalSense.UNRECOVERED_READ_ERROR));
        } catch (RuntimeException e) {
            LOG.log(Level.ERROR, "LUN " + lun + ": internal failure for opcode 0x"
                    + Integer.toHexString(task.opcode()), e);
            task.fail(ScsiStatus.CHECK_CONDITION,
                    SenseData.of(SenseKey.HARDWARE_ERROR, AdditionalSense.INTERNAL_TARGET_FAILURE));
        }
    }

    private boolean reservationConflict(Nexus nexus, CommandTable.Entry entry) {
        synchronized (reservations) {
            return reservations.conflicts(nexus, entry.reservationClass() == CommandTable.WRITE_CLASS);
        }
    }

    private void dispatch(ScsiTask t, int op) throws ScsiStatusException, IOException {
        byte[] cdb = t.cdb();
        switch (op) {
            case ScsiOpcode.TEST_UNIT_READY -> { }
            case ScsiOpcode.REQUEST_SENSE -> requestSense(t);
            case ScsiOpcode.INQUIRY -> inquiry(t);
            case ScsiOpcode.MODE_SENSE_6 -> {
                byte[] out = modePages.sense(cdb, false, blocks, blockSize);
                t.returnData(out, out.length, Bytes.u8(cdb, 4));
            }
            case ScsiOpcode.MODE_SENSE_10 -> {
                byte[] out = modePages.sense(cdb, true, blocks, blockSize);
                t.returnData(out, out.length, Bytes.u16(cdb, 7));
            }
            case ScsiOpcode.READ_CAPACITY_10 -> readCapacity10(t);
            case ScsiOpcode.SERVICE_ACTION_IN_16 -> readCapacity16(t);
            case ScsiOpcode.READ_6 -> {
                int n = Bytes.u8(cdb, 4);
                read(t, Bytes.u24(cdb, 1) & 0x1f_ffff, n == 0 ? 256 : n, false);
            }
            case ScsiOpcode.READ_10 -> read(t, Bytes.u32(cdb, 2), Bytes.u16(cdb, 7), true);
            case ScsiOpcode.READ_12 -> read(t, Bytes.u32(cdb, 2), Bytes.u32(cdb, 6), true);
            case ScsiOpcode.READ_16 -> read(t, Bytes.u64(cdb, 2), Bytes.u32(cdb, 10), true);
            case ScsiOpcode.WRITE_6 -> {
                int n = Bytes.u8(cdb, 4);
                write(t, Bytes.u24(cdb, 1) & 0x1f_ffff, n == 0 ? 256 : n, false);
            }
            case ScsiOpcode.WRITE_10 -> write(t, Bytes.u32(cdb, 2), Bytes.u16(cdb, 7), true);
            case ScsiOpcode.WRITE_12 -> write(t, Bytes.u32(cdb, 2), Bytes.u32(cdb, 6), true);
            case ScsiOpcode.WRITE_16 -> write(t, Bytes.u64(cdb, 2), Bytes.u32(cdb, 10), true);
            // WRITE AND VERIFY: the medium is memory or a file, so what was written verifies.
            case ScsiOpcode.WRITE_AND_VERIFY_10 -> write(t, Bytes.u32(cdb, 2), Bytes.u16(cdb, 7), true);
            case ScsiOpcode.WRITE_AND_VERIFY_12 -> write(t, Bytes.u32(cdb, 2), Bytes.u32(cdb, 6), true);
            case ScsiOpcode.WRITE_AND_VERIFY_16 -> write(t, Bytes.u64(cdb, 2), Bytes.u32(cdb, 10), true);
            // PRE-FETCH: nothing to stage; the range is still checked.
            case ScsiOpcode.PRE_FETCH_10 -> checkRange(Bytes.u32(cdb, 2), Bytes.u16(cdb, 7));
            case ScsiOpcode.PRE_FETCH_16 -> checkRange(Bytes.u64(cdb, 2), Bytes.u32(cdb, 10));
            case ScsiOpcode.WRITE_SAME_10 -> writeSame(t, Bytes.u32(cdb, 2), Bytes.u16(cdb, 7), false);
            case ScsiOpcode.WRITE_SAME_16 -> writeSame(t, Bytes.u64(cdb, 2), Bytes.u32(cdb, 10), true);
            case ScsiOpcode.UNMAP -> unmap(t);
            case ScsiOpcode.VERIFY_10 -> verify(t, Bytes.u32(cdb, 2), Bytes.u16(cdb, 7));
            case ScsiOpcode.VERIFY_12 -> verify(t, Bytes.u32(cdb, 2), Bytes.u32(cdb, 6));
            case ScsiOpcode.VERIFY_16 -> verify(t, Bytes.u64(cdb, 2), Bytes.u32(cdb, 10));
            case ScsiOpcode.COMPARE_AND_WRITE -> compareAndWrite(t);
            case ScsiOpcode.SYNCHRONIZE_CACHE_10 -> synchronizeCache(Bytes.u32(cdb, 2), Bytes.u16(cdb, 7));
            case ScsiOpcode.SYNCHRONIZE_CACHE_16 -> synchronizeCache(Bytes.u64(cdb, 2), Bytes.u32(cdb, 10));
            case ScsiOpcode.MAINTENANCE_IN -> reportSupportedOperationCodes(t);
            case ScsiOpcode.PERSISTENT_RESERVE_IN -> persistentReserveIn(t);
            case ScsiOpcode.PERSISTENT_RESERVE_OUT -> persistentReserveOut(t);
            case ScsiOpcode.RESERVE_6 -> {
                synchronized (reservations) {
                    reservations.reserve6(t.nexus());
                }
            }
            case ScsiOpcode.RELEASE_6 -> {
                synchronized (reservations) {
                    reservations.release6(t.nexus());
                }
            }
            default -> throw ScsiStatusException.illegal(AdditionalSense.INVALID_COMMAND_OPERATION_CODE);
        }
    }

    // ---------------------------------------------------------------- unit attentions, resets

    private void addUnitAttention(Nexus nexus, AdditionalSense asc) {
        synchronized (unitAttentions) {
            Deque<AdditionalSense> queue = unitAttentions.computeIfAbsent(nexus, n -> new ArrayDeque<>());
            if (!queue.contains(asc) && queue.size() < 16) {
                queue.add(asc);
            }
            attentionsPending = true;
        }
    }

    private AdditionalSense takeUnitAttention(Nexus nexus) {
        synchronized (unitAttentions) {
            Deque<AdditionalSense> queue = unitAttentions.get(nexus);
            AdditionalSense ua = queue == null ? null : queue.poll();
            if (queue != null && queue.isEmpty()) {
                unitAttentions.remove(nexus);
                attentionsPending = !unitAttentions.isEmpty();
            }
            return ua;
        }
    }

    /**
     * LUN RESET or TARGET WARM RESET: SPC-2 reservations end and every known nexus gets a unit
     * attention, the one that asked for the reset included (SAM-5 §6.3.3: the condition is
     * established for every I_T nexus); persistent reservations survive.
     */
    public void reset(Iterable<Nexus> nexuses) {
        synchronized (reservations) {
            reservations.reset();
        }
        for (Nexus nexus : nexuses) {
            addUnitAttention(nexus, LUN_RESET_OCCURRED);
        }
    }

    /** The I_T nexus ended (logout or connection loss). */
    public void nexusLost(Nexus nexus) {
        synchronized (reservations) {
            reservations.nexusLost(nexus);
        }
        synchronized (unitAttentions) {
            unitAttentions.remove(nexus);
            attentionsPending = !unitAttentions.isEmpty();
        }
    }

    // ---------------------------------------------------------------- block I/O

    private void checkRange(long lba, long count) throws ScsiStatusException {
        if (lba < 0 || count < 0 || lba > blocks || count > blocks - lba) {
            throw ScsiStatusException.lbaOutOfRange();
        }
    }

    private void checkTransfer(long count, int lengthByte) throws ScsiStatusException {
        if (count * blockSize > MAX_TRANSFER_BYTES) {
            throw ScsiStatusException.invalidCdb(lengthByte, -1);
        }
    }

    private static void checkProtect(byte[] cdb) throws ScsiStatusException {
        if ((cdb[1] & 0xe0) != 0) {
            throw ScsiStatusException.invalidCdb(1, 7); // RDPROTECT/WRPROTECT/VRPROTECT: no protection information
        }
    }

    private void checkWritable() throws ScsiStatusException {
        if (store.readOnly()) {
            throw ScsiStatusException.check(SenseKey.DATA_PROTECT, AdditionalSense.WRITE_PROTECTED);
        }
    }

    private static int lengthByte(int op) {
        return switch (op) {
            case ScsiOpcode.READ_6, ScsiOpcode.WRITE_6 -> 4;
            case ScsiOpcode.READ_12, ScsiOpcode.WRITE_12, ScsiOpcode.VERIFY_12, ScsiOpcode.WRITE_AND_VERIFY_12 -> 6;
            case ScsiOpcode.READ_16, ScsiOpcode.WRITE_16, ScsiOpcode.VERIFY_16, ScsiOpcode.WRITE_SAME_16,
                 ScsiOpcode.WRITE_AND_VERIFY_16 -> 10;
            default -> 7;
        };
    }

    private void read(ScsiTask t, long lba, long count, boolean hasFlags) throws ScsiStatusException, IOException {
        if (hasFlags) {
            checkProtect(t.cdb());
        }
        checkRange(lba, count);
        checkTransfer(count, lengthByte(t.opcode()));
        long wanted = count * blockSize;
        long length = Math.min(wanted, t.expectedLength());
        if (length > t.dataIn().byteSize() || (store.lendsMemory() && t.expectedLength() > 0)) {
            // Too long for the buffer, or memory the transport can send from directly.
            t.deferRead(store, lba * blockSize, wanted, length);
            return;
        }
        if (length > 0) {
            store.read(lba * blockSize, t.dataIn().asSlice(0, length));
        }
        t.returnedBlocks(wanted, length);
    }

    private void write(ScsiTask t, long lba, long count, boolean hasFlags) throws ScsiStatusException, IOException {
        if (hasFlags) {
            checkProtect(t.cdb());
        }
        checkRange(lba, count);
        checkTransfer(count, lengthByte(t.opcode()));
        checkWritable();
        long wanted = count * blockSize;
        t.transferLength(wanted);
        long n = Math.min(wanted, t.dataOut().byteSize());
        if (n == 0) {
            return;
        }
        atomicity.readLock().lock();
        try {
            store.write(lba * blockSize, t.dataOut().asSlice(0, n));
        } finally {
            atomicity.readLock().unlock();
        }
        if (hasFlags && (t.cdb()[1] & 0x08) != 0) {
            store.flush(); // FUA
        }
    }

    private void writeSame(ScsiTask t, long lba, long count, boolean sixteen) throws ScsiStatusException, IOException {
        byte[] cdb = t.cdb();
        checkProtect(cdb);
        if ((cdb[1] & 0x10) != 0) {
            throw ScsiStatusException.invalidCdb(1, 4); // ANCHOR: anchored state not supported
        }
        boolean noDataOut = sixteen && (cdb[1] & 0x01) != 0;
        if (count == 0) {
            throw ScsiStatusException.invalidCdb(sixteen ? 10 : 7, -1); // WSNZ is set in the Block Limits page
        }
        if (count > CommandTable.MAX_WRITE_SAME_BLOCKS) {
            throw ScsiStatusException.invalidCdb(sixteen ? 10 : 7, -1);
        }
        checkRange(lba, count);
        checkWritable();
        t.transferLength(noDataOut ? 0 : blockSize);
        MemorySegment pattern;
        if (noDataOut) {
            pattern = null;
        } else {
            if (t.dataOut().byteSize() != blockSize) {
                throw ScsiStatusException.illegal(INVALID_FIELD_IN_INFORMATION_UNIT);
            }
            pattern = t.dataOut();
        }
        boolean zeros = pattern == null || isZero(pattern);
        atomicity.readLock().lock();
        try {
            if (zeros) {
                // Writing zeros and deallocating (the UNMAP bit) read back alike: both deallocate.
                store.unmap(lba * blockSize, count * blockSize);
            } else {
                for (long i = 0; i < count; i++) {
                    store.write((lba + i) * blockSize, pattern);
                }
            }
        } finally {
            atomicity.readLock().unlock();
        }
    }

    private static boolean isZero(MemorySegment segment) {
        long n = segment.byteSize();
        long i = 0;
        for (; i + 8 <= n; i += 8) {
            if (segment.get(ValueLayout.JAVA_LONG_UNALIGNED, i) != 0) {
                return false;
            }
        }
        for (; i < n; i++) {
            if (segment.get(ValueLayout.JAVA_BYTE, i) != 0) {
                return false;
            }
        }
        return true;
    }

    private void unmap(ScsiTask t) throws ScsiStatusException, IOException {
        byte[] cdb = t.cdb();
        if ((cdb[1] & 0x01) != 0) {
            throw ScsiStatusException.invalidCdb(1, 0); // ANCHOR
        }
        int listLength = Bytes.u16(cdb, 7);
        t.transferLength(listLength);
        checkWritable();
        if (listLength == 0) {
            return;
        }
        if (listLength < 8 || t.dataOut().byteSize() < listLength) {
            throw ScsiStatusException.illegal(AdditionalSense.PARAMETER_LIST_LENGTH_ERROR);
        }
        byte[] params = t.dataOut().asSlice(0, listLength).toArray(ValueLayout.JAVA_BYTE);
        int descriptorBytes = Math.min(Bytes.u16(params, 2), listLength - 8) & ~15;
        if (descriptorBytes / 16 > MAX_UNMAP_DESCRIPTORS) {
            throw ScsiStatusException.invalidParameter(2, -1);
        }
        for (int off = 8; off < 8 + descriptorBytes; off += 16) {
            long lba = Bytes.u64(params, off);
            long count = Bytes.u32(params, off + 8);
            if (count > CommandTable.MAX_UNMAP_BLOCKS) {
                throw ScsiStatusException.invalidParameter(off + 8, -1);
            }
            checkRange(lba, count);
        }
        atomicity.readLock().lock();
        try {
            for (int off = 8; off < 8 + descriptorBytes; off += 16) {
                long lba = Bytes.u64(params, off);
                long count = Bytes.u32(params, off + 8);
                if (count > 0) {
                    store.unmap(lba * blockSize, count * blockSize);
                }
            }
        } finally {
            atomicity.readLock().unlock();
        }
    }

    private void verify(ScsiTask t, long lba, long count) throws ScsiStatusException, IOException {
        byte[] cdb = t.cdb();
        checkProtect(cdb);
        int byteCheck = (cdb[1] >>> 1) & 0x03;
        if (byteCheck == 0x02) {
            throw ScsiStatusException.invalidCdb(1, 2);
        }
        checkRange(lba, count);
        checkTransfer(count, lengthByte(t.opcode()));
        if (byteCheck == 0 || count == 0) {
            return; // medium verification: RAM and files always read back
        }
        long compareBytes = byteCheck == 0x01 ? count * blockSize : blockSize;
        t.transferLength(compareBytes);
        if (t.dataOut().byteSize() < compareBytes) {
            throw ScsiStatusException.illegal(INVALID_FIELD_IN_INFORMATION_UNIT);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment medium = arena.allocate(count * blockSize);
            store.read(lba * blockSize, medium);
            for (long i = 0; i < count; i++) {
                MemorySegment expected = byteCheck == 0x01
                        ? t.dataOut().asSlice(i * blockSize, blockSize)
                        : t.dataOut().asSlice(0, blockSize);
                long mismatch = medium.asSlice(i * blockSize, blockSize).mismatch(expected);
                if (mismatch >= 0) {
                    throw miscompare(i * blockSize + mismatch);
                }
            }
        }
    }

    private static ScsiStatusException miscompare(long offset) {
        return ScsiStatusException.check(new SenseData(true, SenseKey.MISCOMPARE,
                AdditionalSense.MISCOMPARE_DURING_VERIFY, java.util.OptionalLong.of(offset), -1));
    }

    private void compareAndWrite(ScsiTask t) throws ScsiStatusException, IOException {
        byte[] cdb = t.cdb();
        checkProtect(cdb);
        long lba = Bytes.u64(cdb, 2);
        int count = Bytes.u8(cdb, 13);
        if (count > MAX_COMPARE_AND_WRITE_BLOCKS) {
            throw ScsiStatusException.invalidCdb(13, -1);
        }
        checkRange(lba, count);
        checkWritable();
        long half = (long) count * blockSize;
        t.transferLength(2 * half);
        if (count == 0) {
            if (t.dataOut().byteSize() > 0) {
                throw ScsiStatusException.invalidCdb(13, -1); // data for zero blocks: the length field is wrong
            }
            return;
        }
        if (t.dataOut().byteSize() != 2 * half) {
            throw ScsiStatusException.illegal(INVALID_FIELD_IN_INFORMATION_UNIT);
        }
        atomicity.writeLock().lock();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment medium = arena.allocate(half);
            store.read(lba * blockSize, medium);
            long mismatch = medium.mismatch(t.dataOut().asSlice(0, half));
            if (mismatch >= 0) {
                throw miscompare(mismatch);
            }
            store.write(lba * blockSize, t.dataOut().asSlice(half, half));
        } finally {
            atomicity.writeLock().unlock();
        }
        if ((cdb[1] & 0x08) != 0) {
            store.flush();
        }
    }

    private void synchronizeCache(long lba, long count) throws ScsiStatusException, IOException {
        checkRange(lba, count);
        store.flush();
    }

    // ---------------------------------------------------------------- capacity, inquiry, sense

    private void readCapacity10(ScsiTask t) {
        byte[] out = new byte[8];
        Bytes.put32(out, 0, Math.min(blocks - 1, 0xffff_ffffL));
        Bytes.put32(out, 4, blockSize);
        t.returnData(out, 8, 8);
    }

    private void readCapacity16(ScsiTask t) throws ScsiStatusException {
        byte[] cdb = t.cdb();
        if ((cdb[1] & 0x1f) != ScsiOpcode.SA_READ_CAPACITY_16) {
            throw ScsiStatusException.invalidCdb(1, 4);
        }
        byte[] out = new byte[32];
        Bytes.put64(out, 0, blocks - 1);
        Bytes.put32(out, 8, blockSize);
        out[14] = (byte) 0xc0; // LBPME (UNMAP and WRITE SAME deallocate), LBPRZ (deallocated blocks read zero)
        t.returnData(out, 32, Bytes.u32(cdb, 10));
    }

    private void requestSense(ScsiTask t) throws ScsiStatusException {
        byte[] cdb = t.cdb();
        boolean descriptor = (cdb[1] & 0x01) != 0;
        AdditionalSense ua = attentionsPending ? takeUnitAttention(t.nexus()) : null;
        SenseData sense = ua == null ? SenseData.of(SenseKey.NO_SENSE, AdditionalSense.NONE)
                : SenseData.of(SenseKey.UNIT_ATTENTION, ua);
        byte[] out;
        if (descriptor) {
            out = new byte[8];
            out[0] = 0x72;
            out[1] = (byte) sense.key().code();
            out[2] = (byte) sense.additional().asc();
            out[3] = (byte) sense.additional().ascq();
        } else {
            out = sense.encodeFixed();
        }
        t.returnData(out, out.length, Bytes.u8(cdb, 4));
    }

    private void inquiry(ScsiTask t) throws ScsiStatusException {
        byte[] cdb = t.cdb();
        if ((cdb[1] & 0x02) != 0) {
            throw ScsiStatusException.invalidCdb(1, 1); // CMDDT is obsolete
        }
        long allocation = Bytes.u16(cdb, 3);
        boolean evpd = (cdb[1] & 0x01) != 0;
        int page = Bytes.u8(cdb, 2);
        if (!evpd) {
            if (page != 0) {
                throw ScsiStatusException.invalidCdb(2, -1);
            }
            byte[] out = Inquiry.standard(0x00);
            t.returnData(out, out.length, allocation);
            return;
        }
        byte[] out = switch (page) {
            case 0x00 -> Inquiry.supportedPages();
            case 0x80 -> Inquiry.serialNumber(serial);
            case 0x83 -> Inquiry.deviceIdentification(naa, serial, t.nexus());
            case 0xb0 -> Inquiry.blockLimits(blockSize);
            case 0xb1 -> Inquiry.blockDeviceCharacteristics();
            case 0xb2 -> Inquiry.logicalBlockProvisioning();
            default -> throw ScsiStatusException.invalidCdb(2, -1);
        };
        t.returnData(out, out.length, allocation);
    }

    /** Standard INQUIRY data for a LUN that does not exist (peripheral qualifier 3). */
    public static void inquiryNoLun(ScsiTask t) {
        byte[] cdb = t.cdb();
        if ((cdb[1] & 0x03) != 0 || cdb[2] != 0) {
            t.fail(ScsiStatus.CHECK_CONDITION, SenseData.of(SenseKey.ILLEGAL_REQUEST,
                    AdditionalSense.LOGICAL_UNIT_NOT_SUPPORTED));
            return;
        }
        byte[] out = Inquiry.standard(0x7f);
        t.returnData(out, out.length, Bytes.u16(cdb, 3));
    }

    /** Answers a command addressed to a LUN this target does not have (SPC-4 4.6.4). */
    public static void noSuchLun(ScsiTask t, int[] luns) {
        switch (t.opcode()) {
            case ScsiOpcode.INQUIRY -> inquiryNoLun(t);
            case ScsiOpcode.REPORT_LUNS -> reportLuns(t, luns);
            case ScsiOpcode.REQUEST_SENSE -> {
                byte[] out = SenseData.of(SenseKey.ILLEGAL_REQUEST, AdditionalSense.LOGICAL_UNIT_NOT_SUPPORTED)
                        .encodeFixed();
                t.returnData(out, out.length, Bytes.u8(t.cdb(), 4));
            }
            default -> t.fail(ScsiStatus.CHECK_CONDITION,
                    SenseData.of(SenseKey.ILLEGAL_REQUEST, AdditionalSense.LOGICAL_UNIT_NOT_SUPPORTED));
        }
    }

    /** REPORT LUNS, served by the target for every LUN including nonexistent ones. */
    public static void reportLuns(ScsiTask t, int[] luns) {
        byte[] cdb = t.cdb();
        int select = Bytes.u8(cdb, 2);
        long allocation = Bytes.u32(cdb, 6);
        if (select > 2) {
            t.fail(ScsiStatusException.invalidCdb(2, -1));
            return;
        }
        if (allocation < 16) {
            t.fail(ScsiStatusException.invalidCdb(6, -1));
            return;
        }
        byte[] out = new byte[8 + 8 * luns.length];
        Bytes.put32(out, 0, 8L * luns.length);
        for (int i = 0; i < luns.length; i++) {
            Bytes.put64(out, 8 + 8 * i, Luns.encode(luns[i]));
        }
        t.returnData(out, out.length, allocation);
    }

    // ---------------------------------------------------------------- opcodes, reservations

    private void reportSupportedOperationCodes(ScsiTask t) throws ScsiStatusException {
        byte[] cdb = t.cdb();
        if ((cdb[1] & 0x1f) != ScsiOpcode.SA_REPORT_SUPPORTED_OPERATION_CODES) {
            throw ScsiStatusException.invalidCdb(1, 4);
        }
        byte[] out = CommandTable.report(cdb);
        t.returnData(out, out.length, Bytes.u32(cdb, 6));
    }

    private void persistentReserveIn(ScsiTask t) throws ScsiStatusException {
        byte[] cdb = t.cdb();
        byte[] out;
        synchronized (reservations) {
            out = switch (cdb[1] & 0x1f) {
                case 0x00 -> reservations.readKeys();
                case 0x01 -> reservations.readReservation();
                case 0x02 -> Reservations.reportCapabilities();
                case 0x03 -> reservations.readFullStatus();
                default -> throw ScsiStatusException.invalidCdb(1, 4);
            };
        }
        t.returnData(out, out.length, Bytes.u16(cdb, 7));
    }

    private void persistentReserveOut(ScsiTask t) throws ScsiStatusException {
        byte[] cdb = t.cdb();
        long listLength = Bytes.u32(cdb, 5);
        t.transferLength(listLength);
        int serviceAction = cdb[1] & 0x1f;
        if (serviceAction > 0x06) {
            throw ScsiStatusException.invalidCdb(1, 4); // REGISTER AND MOVE and reserved actions
        }
        if (listLength != 24) {
            throw ScsiStatusException.illegal(AdditionalSense.PARAMETER_LIST_LENGTH_ERROR);
        }
        if (t.dataOut().byteSize() < 24) {
            throw ScsiStatusException.illegal(AdditionalSense.PARAMETER_LIST_LENGTH_ERROR);
        }
        byte[] params = t.dataOut().asSlice(0, 24).toArray(ValueLayout.JAVA_BYTE);
        synchronized (reservations) {
            reservations.out(t.nexus(), serviceAction, Bytes.u8(cdb, 2), params);
        }
    }

    static String ascii(byte[] b, int off, int len) {
        return new String(b, off, len, StandardCharsets.US_ASCII);
    }
}
