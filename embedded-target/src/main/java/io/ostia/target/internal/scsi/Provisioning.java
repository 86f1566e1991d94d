package io.ostia.target.internal.scsi;

import io.ostia.api.scsi.AdditionalSense;
import io.ostia.target.internal.store.BackingStore;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.locks.ReadWriteLock;

/**
 * A logical unit's thin provisioning (SBC-3 §4.7): UNMAP and WRITE SAME deallocate, GET LBA
 * STATUS reports what is mapped. Deallocated blocks read zero (LBPRZ).
 */
final class Provisioning {

    private final LogicalUnit unit;
    private final BackingStore store;
    private final long blocks;
    private final int blockSize;
    /** The unit's write lock: shared by writes, exclusive for COMPARE AND WRITE and ORWRITE. */
    private final ReadWriteLock atomicity;

    Provisioning(LogicalUnit unit, BackingStore store, long blocks, int blockSize, ReadWriteLock atomicity) {
        this.unit = unit;
        this.store = store;
        this.blocks = blocks;
        this.blockSize = blockSize;
        this.atomicity = atomicity;
    }

    void writeSame(ScsiTask t, long lba, long count, boolean sixteen) throws ScsiStatusException, IOException {
        byte[] cdb = t.cdb();
        LogicalUnit.checkProtect(cdb);
        if ((cdb[1] & 0x10) != 0) {
            throw ScsiStatusException.invalidCdb(1, 4); // ANCHOR: anchored state not supported
        }
        boolean noDataOut = sixteen && (cdb[1] & 0x01) != 0;
        if (count == 0) {
            // SBC-3 §5.45: zero blocks means to the end of the medium (WSNZ is clear in Block Limits).
            unit.checkRange(lba, 0);
            count = blocks - lba;
        }
        if (count > CommandTable.MAX_WRITE_SAME_BLOCKS) {
            throw ScsiStatusException.invalidCdb(sixteen ? 10 : 7, -1);
        }
        unit.checkRange(lba, count);
        unit.checkWritable();
        t.transferLength(noDataOut ? 0 : blockSize);
        MemorySegment pattern;
        if (noDataOut) {
            pattern = null;
        } else {
            if (t.dataOut().byteSize() != blockSize) {
                throw ScsiStatusException.illegal(LogicalUnit.INVALID_FIELD_IN_INFORMATION_UNIT);
            }
            pattern = t.dataOut();
        }
        boolean deallocate = (cdb[1] & 0x08) != 0 || pattern == null || isZero(pattern);
        atomicity.readLock().lock();
        try {
            if (deallocate) {
                // The UNMAP bit, or zeros: deallocated blocks read zero (LBPRZ), so both deallocate.
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

    void unmap(ScsiTask t) throws ScsiStatusException, IOException {
        byte[] cdb = t.cdb();
        if ((cdb[1] & 0x01) != 0) {
            throw ScsiStatusException.invalidCdb(1, 0); // ANCHOR
        }
        int listLength = Bytes.u16(cdb, 7);
        t.transferLength(listLength);
        unit.checkWritable();
        if (listLength == 0) {
            return;
        }
        if (listLength < 8 || t.dataOut().byteSize() < listLength) {
            throw ScsiStatusException.illegal(AdditionalSense.PARAMETER_LIST_LENGTH_ERROR);
        }
        byte[] params = t.dataOut().asSlice(0, listLength).toArray(ValueLayout.JAVA_BYTE);
        int descriptorBytes = Math.min(Bytes.u16(params, 2), listLength - 8) & ~15;
        if (descriptorBytes / 16 > LogicalUnit.MAX_UNMAP_DESCRIPTORS) {
            throw ScsiStatusException.invalidParameter(2, -1);
        }
        for (int off = 8; off < 8 + descriptorBytes; off += 16) {
            long lba = Bytes.u64(params, off);
            long count = Bytes.u32(params, off + 8);
            if (count > CommandTable.MAX_UNMAP_BLOCKS) {
                throw ScsiStatusException.invalidParameter(off + 8, -1);
            }
            unit.checkRange(lba, count);
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

    /** Blocks GET LBA STATUS reads per step. */
    private static final int LBA_STATUS_CHUNK_BLOCKS = 2048;

    /**
     * GET LBA STATUS, SBC-3 §5.6: one descriptor for the run of blocks from the LBA asked for that
     * are alike, mapped or deallocated. Deallocated blocks read zero (LBPRZ), and the stores keep
     * no map of their own, so a block of zeros is reported deallocated. The run is looked for in
     * at most as many bytes as the largest READ moves, which bounds what one command costs; on
     * a LUN no larger than that, an erased LUN is one descriptor.
     */
    void lbaStatus(ScsiTask t) throws ScsiStatusException, IOException {
        byte[] cdb = t.cdb();
        long lba = Bytes.u64(cdb, 2);
        long allocation = Bytes.u32(cdb, 10);
        if (lba < 0 || lba >= blocks) { // an unsigned LBA of 2^63 or more reads negative
            throw ScsiStatusException.lbaOutOfRange();
        }
        long scan = Math.min(LogicalUnit.MAX_TRANSFER_BYTES / blockSize, blocks - lba);
        long run = 0;
        boolean zero = false;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment chunk = arena.allocate((long) Math.min(LBA_STATUS_CHUNK_BLOCKS, scan) * blockSize, 8);
            boolean alike = true;
            while (alike && run < scan) {
                long n = Math.min(LBA_STATUS_CHUNK_BLOCKS, scan - run);
                store.read((lba + run) * blockSize, chunk.asSlice(0, n * blockSize));
                if (run == 0) {
                    zero = isZero(chunk.asSlice(0, blockSize));
                }
                long i = 0;
                while (i < n && isZero(chunk.asSlice(i * blockSize, blockSize)) == zero) {
                    i++;
                }
                alike = i == n;
                run += i;
            }
        }
        byte[] out = new byte[24];
        Bytes.put32(out, 0, 20);
        Bytes.put64(out, 8, lba);
        Bytes.put32(out, 16, run);
        out[20] = (byte) (zero ? 0x01 : 0x00); // PROVISIONING STATUS: deallocated or mapped
        t.returnData(out, out.length, allocation);
    }
}
