package io.ostia.target.internal.scsi;

import io.ostia.api.pdu.DataPlacement;
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
import java.util.Set;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * SBC-3 direct-access block device emulation over a {@link BackingStore}: the command set of
 * {@link CommandTable}, with persistent reservations and {@link UnitAttentions} keyed by I_T
 * nexus. Thin provisioning is {@link Provisioning}'s, the commands that describe the unit
 * {@link Descriptions}', the answers that need no LUN {@link LunlessCommands}', SANITIZE
 * {@link Sanitize}'s, EXTENDED COPY {@link ExtendedCopy}'s. Safe for concurrent use by many
 * connections.
 */
public final class LogicalUnit implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(LogicalUnit.class.getName());

    /** Largest single transfer: bounds every buffer a command can make the target allocate. */
    public static final int MAX_TRANSFER_BYTES = 256 << 20;
    static final int MAX_COMPARE_AND_WRITE_BLOCKS = 64;
    /** WRITE ATOMIC (16) carries a 16-bit transfer length. */
    static final int MAX_ATOMIC_TRANSFER_BLOCKS = 0xffff;
    static final int MAX_UNMAP_DESCRIPTORS = 256;
    static final AdditionalSense INVALID_FIELD_IN_INFORMATION_UNIT = new AdditionalSense(0x0e, 0x03);
    private static final AdditionalSense LUN_RESET_OCCURRED = new AdditionalSense(0x29, 0x03);
    private static final AdditionalSense SOFTWARE_WRITE_PROTECTED = new AdditionalSense(0x27, 0x02);
    /** Commands a unit serves while its removable medium is ejected; every other one is NOT READY. */
    private static final Set<Integer> WITHOUT_MEDIUM = Set.of(ScsiOpcode.INQUIRY, ScsiOpcode.REPORT_LUNS,
            ScsiOpcode.REQUEST_SENSE, ScsiOpcode.START_STOP_UNIT, ScsiOpcode.PREVENT_ALLOW_MEDIUM_REMOVAL,
            ScsiOpcode.MODE_SENSE_6, ScsiOpcode.MODE_SENSE_10, ScsiOpcode.MODE_SELECT_6, ScsiOpcode.MODE_SELECT_10,
            ScsiOpcode.MAINTENANCE_IN,
            ScsiOpcode.PERSISTENT_RESERVE_IN, ScsiOpcode.PERSISTENT_RESERVE_OUT, ScsiOpcode.RESERVE_6,
            ScsiOpcode.RELEASE_6);

    private final int lun;
    private final BackingStore store;
    private final int blockSize;
    private final long blocks;
    private final String serial;
    private final byte[] naa;
    private final Reservations reservations;
    private final UnitAttentions unitAttentions = new UnitAttentions();
    /** Writes share it; COMPARE AND WRITE takes it exclusively, which makes it atomic. */
    private final ReadWriteLock atomicity = new ReentrantReadWriteLock();
    private final ModePages modePages;
    private final Descriptions descriptions;
    private final RemovableMedium medium;
    private final Provisioning provisioning;
    private final Sanitize sanitize;
    private final ExtendedCopy copyManager;

    /**
     * @param lun    the LUN number (0..{@link Luns#MAX_FLAT_LUN})
     * @param store  the backing store; closed with this unit
     * @param serial unit serial number (VPD 0x80), printable ASCII
     * @param naaId  the 64 low bits of the NAA IEEE Registered Extended designator, unique per LU
     */
    public LogicalUnit(int lun, BackingStore store, String serial, long naaId) {
        this(lun, store, serial, naaId, 0, false);
    }

    /**
     * @param physicalBlockExponent 2^n logical blocks per physical block, for READ CAPACITY (16)
     * @param removable whether the unit reports a removable medium that START STOP UNIT ejects
     */
    public LogicalUnit(int lun, BackingStore store, String serial, long naaId, int physicalBlockExponent,
            boolean removable) {
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
        this.reservations = new Reservations(unitAttentions::raise);
        this.modePages = new ModePages(store.readOnly(), store.volatileWriteCache());
        this.medium = new RemovableMedium(removable);
        this.provisioning = new Provisioning(this, store, blocks, blockSize, atomicity);
        this.sanitize = new Sanitize(this, store, atomicity);
        this.copyManager = new ExtendedCopy(this);
        this.descriptions = new Descriptions(blocks, blockSize, physicalBlockExponent, removable, serial, naa,
                unitAttentions);
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

    /** Where EXTENDED COPY finds the units its target descriptors name (by default this one only). */
    public void useCopyTargets(CopyTargets targets) {
        copyManager.useTargets(targets);
    }

    /** Whether this unit reports {@code designator} of {@code designatorType} for itself (VPD 0x83). */
    public boolean identifiedBy(int designatorType, byte[] designator) {
        return designatorType == 0x03 && java.util.Arrays.equals(naa, designator); // NAA
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
            unitAttentions.seen(nexus);
            if (op != ScsiOpcode.INQUIRY && op != ScsiOpcode.REPORT_LUNS && op != ScsiOpcode.REQUEST_SENSE) {
                AdditionalSense ua = unitAttentions.take(nexus);
                if (ua != null) {
                    throw ScsiStatusException.check(SenseKey.UNIT_ATTENTION, ua);
                }
                sanitize.requireIdle(op);
            }
            CommandTable.Entry entry = CommandTable.find(task.cdb());
            if (entry == null) {
                throw ScsiStatusException.illegal(AdditionalSense.INVALID_COMMAND_OPERATION_CODE);
            }
            if (entry.reservationClass() != CommandTable.ALLOWED && reservationConflict(nexus, entry)) {
                throw ScsiStatusException.reservationConflict();
            }
            if (!WITHOUT_MEDIUM.contains(op)) {
                medium.requirePresent();
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
            case ScsiOpcode.START_STOP_UNIT -> medium.startStop(cdb);
            case ScsiOpcode.PREVENT_ALLOW_MEDIUM_REMOVAL -> medium.preventAllow(cdb, t.nexus());
            case ScsiOpcode.REQUEST_SENSE -> descriptions.requestSense(t);
            case ScsiOpcode.INQUIRY -> descriptions.inquiry(t);
            case ScsiOpcode.MODE_SENSE_6 -> {
                byte[] out = modePages.sense(cdb, false, blocks, blockSize);
                t.returnData(out, out.length, Bytes.u8(cdb, 4));
            }
            case ScsiOpcode.MODE_SENSE_10 -> {
                byte[] out = modePages.sense(cdb, true, blocks, blockSize);
                t.returnData(out, out.length, Bytes.u16(cdb, 7));
            }
            case ScsiOpcode.MODE_SELECT_6 -> modePages.select(t, false, blocks, blockSize, unitAttentions);
            case ScsiOpcode.MODE_SELECT_10 -> modePages.select(t, true, blocks, blockSize, unitAttentions);
            case ScsiOpcode.SANITIZE -> sanitize.execute(t);
            case ScsiOpcode.EXTENDED_COPY -> copyManager.extendedCopy(t);
            case ScsiOpcode.RECEIVE_COPY_RESULTS -> copyManager.receiveCopyResults(t);
            case ScsiOpcode.READ_CAPACITY_10 -> descriptions.readCapacity10(t);
            case ScsiOpcode.SERVICE_ACTION_IN_16 -> {
                if ((cdb[1] & 0x1f) == ScsiOpcode.SA_GET_LBA_STATUS) {
                    provisioning.lbaStatus(t);
                } else {
                    descriptions.readCapacity16(t);
                }
            }
            case ScsiOpcode.READ_DEFECT_DATA_10 -> Descriptions.readDefectData(t, false);
            case ScsiOpcode.READ_DEFECT_DATA_12 -> Descriptions.readDefectData(t, true);
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
            // WRITE ATOMIC (16): every write here is atomic (one store call under the shared lock).
            case ScsiOpcode.WRITE_ATOMIC_16 -> write(t, Bytes.u64(cdb, 2), Bytes.u16(cdb, 12), true);
            case ScsiOpcode.ORWRITE_16 -> orWrite(t, Bytes.u64(cdb, 2), Bytes.u32(cdb, 10));
            // WRITE AND VERIFY: the medium is memory or a file, so what was written verifies.
            case ScsiOpcode.WRITE_AND_VERIFY_10 -> write(t, Bytes.u32(cdb, 2), Bytes.u16(cdb, 7), true);
            case ScsiOpcode.WRITE_AND_VERIFY_12 -> write(t, Bytes.u32(cdb, 2), Bytes.u32(cdb, 6), true);
            case ScsiOpcode.WRITE_AND_VERIFY_16 -> write(t, Bytes.u64(cdb, 2), Bytes.u32(cdb, 10), true);
            // PRE-FETCH: nothing to stage; the range is still checked.
            case ScsiOpcode.PRE_FETCH_10 -> checkRange(Bytes.u32(cdb, 2), Bytes.u16(cdb, 7));
            case ScsiOpcode.PRE_FETCH_16 -> checkRange(Bytes.u64(cdb, 2), Bytes.u32(cdb, 10));
            case ScsiOpcode.WRITE_SAME_10 -> provisioning.writeSame(t, Bytes.u32(cdb, 2), Bytes.u16(cdb, 7), false);
            case ScsiOpcode.WRITE_SAME_16 -> provisioning.writeSame(t, Bytes.u64(cdb, 2), Bytes.u32(cdb, 10), true);
            case ScsiOpcode.UNMAP -> provisioning.unmap(t);
            case ScsiOpcode.VERIFY_10 -> verify(t, Bytes.u32(cdb, 2), Bytes.u16(cdb, 7));
            case ScsiOpcode.VERIFY_12 -> verify(t, Bytes.u32(cdb, 2), Bytes.u32(cdb, 6));
            case ScsiOpcode.VERIFY_16 -> verify(t, Bytes.u64(cdb, 2), Bytes.u32(cdb, 10));
            case ScsiOpcode.COMPARE_AND_WRITE -> compareAndWrite(t);
            case ScsiOpcode.SYNCHRONIZE_CACHE_10 -> synchronizeCache(Bytes.u32(cdb, 2), Bytes.u16(cdb, 7));
            case ScsiOpcode.SYNCHRONIZE_CACHE_16 -> synchronizeCache(Bytes.u64(cdb, 2), Bytes.u32(cdb, 10));
            case ScsiOpcode.MAINTENANCE_IN -> Descriptions.reportSupportedOperationCodes(t);
            case ScsiOpcode.PERSISTENT_RESERVE_IN -> reservations.persistentReserveIn(t);
            case ScsiOpcode.PERSISTENT_RESERVE_OUT -> reservations.persistentReserveOut(t);
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

    // ---------------------------------------------------------------- resets

    /**
     * LUN RESET or TARGET WARM RESET: SPC-2 reservations and medium removal preventions end, and
     * each of {@code nexuses} gets a unit attention; persistent reservations survive.
     */
    public void reset(Iterable<Nexus> nexuses) {
        synchronized (reservations) {
            reservations.reset();
        }
        medium.reset();
        copyManager.discard(null);
        unitAttentions.raise(nexuses, LUN_RESET_OCCURRED);
    }

    /** The I_T nexus ended (logout or connection loss). */
    public void nexusLost(Nexus nexus) {
        synchronized (reservations) {
            reservations.nexusLost(nexus);
        }
        unitAttentions.clear(nexus);
        medium.nexusLost(nexus);
        copyManager.discard(nexus);
    }

    // ---------------------------------------------------------------- block I/O

    void checkRange(long lba, long count) throws ScsiStatusException {
        if (lba < 0 || count < 0 || lba > blocks || count > blocks - lba) {
            throw ScsiStatusException.lbaOutOfRange();
        }
    }

    private void checkTransfer(long count, int lengthByte) throws ScsiStatusException {
        if (count * blockSize > MAX_TRANSFER_BYTES) {
            throw ScsiStatusException.invalidCdb(lengthByte, -1);
        }
    }

    static void checkProtect(byte[] cdb) throws ScsiStatusException {
        if ((cdb[1] & 0xe0) != 0) {
            throw ScsiStatusException.invalidCdb(1, 7); // RDPROTECT/WRPROTECT/VRPROTECT: no protection information
        }
    }

    void checkWritable() throws ScsiStatusException {
        if (store.readOnly()) {
            throw ScsiStatusException.check(SenseKey.DATA_PROTECT, AdditionalSense.WRITE_PROTECTED);
        }
        if (modePages.softwareWriteProtected()) {
            throw ScsiStatusException.check(SenseKey.DATA_PROTECT, SOFTWARE_WRITE_PROTECTED);
        }
    }

    /** EXTENDED COPY's read of {@code lba..}, as a READ would (the range is checked by the caller). */
    void copyRead(long lba, MemorySegment into) throws IOException {
        store.read(lba * blockSize, into);
    }

    /** EXTENDED COPY's write at {@code lba}, as a WRITE would: shares the lock with the other writes. */
    void copyWrite(long lba, MemorySegment from) throws IOException {
        atomicity.readLock().lock();
        try {
            store.write(lba * blockSize, from);
        } finally {
            atomicity.readLock().unlock();
        }
    }

    private static int lengthByte(int op) {
        return switch (op) {
            case ScsiOpcode.READ_6, ScsiOpcode.WRITE_6 -> 4;
            case ScsiOpcode.READ_12, ScsiOpcode.WRITE_12, ScsiOpcode.VERIFY_12, ScsiOpcode.WRITE_AND_VERIFY_12 -> 6;
            case ScsiOpcode.READ_16, ScsiOpcode.WRITE_16, ScsiOpcode.VERIFY_16, ScsiOpcode.WRITE_SAME_16,
                 ScsiOpcode.WRITE_AND_VERIFY_16, ScsiOpcode.ORWRITE_16 -> 10;
            case ScsiOpcode.WRITE_ATOMIC_16 -> 12;
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
            store.read(lba * blockSize, DataPlacement.leading(t.dataIn(), length));
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
            store.write(lba * blockSize, DataPlacement.leading(t.dataOut(), n));
        } finally {
            atomicity.readLock().unlock();
        }
        if (hasFlags && (t.cdb()[1] & 0x08) != 0) {
            store.flush(); // FUA
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

    /**
     * ORWRITE (16), SBC-3 §5.8: each block becomes the OR of what it held and the data sent,
     * atomically with respect to every other write (the exclusive lock, as COMPARE AND WRITE).
     */
    private void orWrite(ScsiTask t, long lba, long count) throws ScsiStatusException, IOException {
        checkProtect(t.cdb());
        checkRange(lba, count);
        checkTransfer(count, 10);
        checkWritable();
        long bytes = count * blockSize;
        t.transferLength(bytes);
        if (count == 0) {
            return;
        }
        if (t.dataOut().byteSize() != bytes) {
            throw ScsiStatusException.illegal(INVALID_FIELD_IN_INFORMATION_UNIT);
        }
        atomicity.writeLock().lock();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment medium = arena.allocate(bytes, 8);
            store.read(lba * blockSize, medium);
            MemorySegment data = t.dataOut();
            for (long i = 0; i < bytes; i += 8) {
                medium.set(ValueLayout.JAVA_LONG, i, medium.get(ValueLayout.JAVA_LONG, i)
                        | data.get(ValueLayout.JAVA_LONG_UNALIGNED, i));
            }
            store.write(lba * blockSize, medium);
        } finally {
            atomicity.writeLock().unlock();
        }
        if ((t.cdb()[1] & 0x08) != 0) {
            store.flush();
        }
    }

    private void synchronizeCache(long lba, long count) throws ScsiStatusException, IOException {
        checkRange(lba, count);
        store.flush();
    }

    static String ascii(byte[] b, int off, int len) {
        return new String(b, off, len, StandardCharsets.US_ASCII);
    }
}
