package io.ostia.target.internal.scsi;

import io.ostia.api.scsi.AdditionalSense;
import io.ostia.api.scsi.SenseKey;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A logical unit's copy manager (SPC-4 §5.17): EXTENDED COPY (LID1) with identification
 * descriptor target descriptors (0xE4) resolved through {@link CopyTargets}, and block-to-block
 * segment descriptors (0x02); RECEIVE COPY RESULTS with COPY STATUS and OPERATING PARAMETERS.
 * A copy runs within its command, so a status is held only for a completed copy, per I_T nexus
 * and list identifier, until the nexus ends or the unit is reset. Thread-safe.
 */
final class ExtendedCopy {

    static final int MAX_TARGET_DESCRIPTORS = 4;
    static final int MAX_SEGMENT_DESCRIPTORS = 64;
    /** Bounds the parameter data an EXTENDED COPY may make the copy manager read. */
    static final int MAX_DESCRIPTOR_LIST_LENGTH = 4096;
    static final int IDENTIFICATION_DESCRIPTOR = 0xe4;
    static final int BLOCK_TO_BLOCK = 0x02;
    private static final int HEADER = 16;
    private static final int TARGET_DESCRIPTOR_LENGTH = 32;
    private static final int BLOCK_TO_BLOCK_LENGTH = 28;
    /** Statuses held per nexus; the oldest goes first (each list identifier is one byte anyway). */
    private static final int MAX_HELD_PER_NEXUS = 256;
    /** A copy moves this much per read and write, so a segment never needs a buffer of its size. */
    private static final int CHUNK_BYTES = 1 << 20;
    private static final int RECEIVE_COPY_STATUS = 0x00;
    private static final int RECEIVE_OPERATING_PARAMETERS = 0x03;
    private static final int LIST_ID_HELD = 0;
    private static final int LIST_ID_NOT_HELD = 2;
    private static final int NO_LIST_ID = 3;

    private static final AdditionalSense TOO_MANY_TARGET_DESCRIPTORS = new AdditionalSense(0x26, 0x06);
    private static final AdditionalSense UNSUPPORTED_TARGET_DESCRIPTOR = new AdditionalSense(0x26, 0x07);
    private static final AdditionalSense TOO_MANY_SEGMENT_DESCRIPTORS = new AdditionalSense(0x26, 0x08);
    private static final AdditionalSense UNSUPPORTED_SEGMENT_DESCRIPTOR = new AdditionalSense(0x26, 0x09);
    private static final AdditionalSense UNREACHABLE_COPY_TARGET = new AdditionalSense(0x08, 0x04);
    private static final AdditionalSense COPY_TARGET_NOT_REACHABLE = new AdditionalSense(0x0d, 0x02);

    /** A completed copy as COPY STATUS reports it. */
    private record Status(int segments, long bytes) {
    }

    private final LogicalUnit unit;
    private volatile CopyTargets targets;
    private final Map<Nexus, Map<Integer, Status>> held = new HashMap<>();

    ExtendedCopy(LogicalUnit unit) {
        this.unit = unit;
        this.targets = (type, designator) -> unit.identifiedBy(type, designator) ? unit : null;
    }

    void useTargets(CopyTargets targets) {
        this.targets = targets;
    }

    // ---------------------------------------------------------------- EXTENDED COPY (LID1)

    void extendedCopy(ScsiTask t) throws ScsiStatusException, IOException {
        byte[] cdb = t.cdb();
        if ((cdb[1] & 0x1f) != 0) {
            throw ScsiStatusException.invalidCdb(1, 4); // only LID1
        }
        long length = Bytes.u32(cdb, 10);
        t.transferLength(length);
        if (length == 0) {
            return; // SPC-4 §6.4.1: no parameter data, no copy, not an error
        }
        if (length < HEADER || t.dataOut().byteSize() < length) {
            throw ScsiStatusException.illegal(AdditionalSense.PARAMETER_LIST_LENGTH_ERROR);
        }
        byte[] head = t.dataOut().asSlice(0, HEADER).toArray(ValueLayout.JAVA_BYTE);
        int listId = Bytes.u8(head, 0);
        int listIdUsage = (head[1] >>> 3) & 0x03;
        int targetLength = Bytes.u16(head, 2);
        long segmentLength = Bytes.u32(head, 8);
        long inlineLength = Bytes.u32(head, 12);
        if (targetLength + segmentLength > MAX_DESCRIPTOR_LIST_LENGTH
                || HEADER + targetLength + segmentLength + inlineLength > length) {
            throw ScsiStatusException.illegal(AdditionalSense.PARAMETER_LIST_LENGTH_ERROR);
        }
        if (listIdUsage == 1 || (listIdUsage == NO_LIST_ID && listId != 0)) {
            throw ScsiStatusException.invalidParameter(listIdUsage == 1 ? 1 : 0, -1);
        }
        byte[] list = t.dataOut().asSlice(HEADER, targetLength + segmentLength).toArray(ValueLayout.JAVA_BYTE);
        LogicalUnit[] copyTargets = targets(list, targetLength);
        int segmentCount = countSegments(list, targetLength, (int) segmentLength);
        if (segmentCount > MAX_SEGMENT_DESCRIPTORS) {
            throw ScsiStatusException.illegal(TOO_MANY_SEGMENT_DESCRIPTORS);
        }
        long bytes = 0;
        for (int off = targetLength; off < list.length; off += BLOCK_TO_BLOCK_LENGTH) {
            bytes += copy(list, off, copyTargets);
        }
        if (listIdUsage == LIST_ID_HELD) {
            hold(t.nexus(), listId, new Status(segmentCount, bytes));
        }
    }

    /** Resolves the target descriptors; a descriptor that names no unit leaves a null. */
    private LogicalUnit[] targets(byte[] list, int targetLength) throws ScsiStatusException {
        if (targetLength % TARGET_DESCRIPTOR_LENGTH != 0) {
            throw ScsiStatusException.illegal(AdditionalSense.PARAMETER_LIST_LENGTH_ERROR);
        }
        int count = targetLength / TARGET_DESCRIPTOR_LENGTH;
        if (count > MAX_TARGET_DESCRIPTORS) {
            throw ScsiStatusException.illegal(TOO_MANY_TARGET_DESCRIPTORS);
        }
        LogicalUnit[] units = new LogicalUnit[count];
        for (int i = 0; i < count; i++) {
            int off = i * TARGET_DESCRIPTOR_LENGTH;
            if (Bytes.u8(list, off) != IDENTIFICATION_DESCRIPTOR) {
                throw ScsiStatusException.illegal(UNSUPPORTED_TARGET_DESCRIPTOR);
            }
            if ((list[off + 1] & 0x1f) != 0) {
                throw ScsiStatusException.invalidParameter(HEADER + off + 1, 4); // not a block device
            }
            // Bytes 4..27: a designation descriptor, SPC-4 §7.8.6.1; only logical unit designators.
            int designatorType = list[off + 5] & 0x0f;
            int association = (list[off + 5] >>> 4) & 0x03;
            int designatorLength = Bytes.u8(list, off + 7);
            if (designatorLength > 20) {
                throw ScsiStatusException.invalidParameter(HEADER + off + 7, -1);
            }
            byte[] designator = java.util.Arrays.copyOfRange(list, off + 8, off + 8 + designatorLength);
            LogicalUnit target = association == 0 ? targets.find(designatorType, designator) : null;
            if (target != null && Bytes.u24(list, off + 29) != target.blockSize()) {
                throw ScsiStatusException.invalidParameter(HEADER + off + 29, -1); // DISK BLOCK LENGTH
            }
            units[i] = target;
        }
        return units;
    }

    private static int countSegments(byte[] list, int from, int segmentLength) throws ScsiStatusException {
        int count = 0;
        for (int off = from; off < from + segmentLength; off += BLOCK_TO_BLOCK_LENGTH) {
            if (off + 4 > from + segmentLength) {
                throw ScsiStatusException.illegal(AdditionalSense.PARAMETER_LIST_LENGTH_ERROR);
            }
            if (Bytes.u8(list, off) != BLOCK_TO_BLOCK) {
                throw ScsiStatusException.illegal(UNSUPPORTED_SEGMENT_DESCRIPTOR);
            }
            if (Bytes.u16(list, off + 2) != BLOCK_TO_BLOCK_LENGTH - 4 || off + BLOCK_TO_BLOCK_LENGTH > from + segmentLength) {
                throw ScsiStatusException.illegal(AdditionalSense.PARAMETER_LIST_LENGTH_ERROR);
            }
            count++;
        }
        return count;
    }

    /** One block-to-block segment: returns the bytes copied. */
    private long copy(byte[] list, int off, LogicalUnit[] copyTargets) throws ScsiStatusException, IOException {
        LogicalUnit source = target(copyTargets, Bytes.u16(list, off + 4));
        LogicalUnit destination = target(copyTargets, Bytes.u16(list, off + 6));
        if (source.blockSize() != destination.blockSize()) {
            // Block-to-block between different block sizes would need the PAD and CAT rules.
            throw ScsiStatusException.check(SenseKey.COPY_ABORTED, AdditionalSense.NONE);
        }
        // DC (byte 1 bit 1) says whose blocks the count is in: with one block size, the same.
        long blocks = Bytes.u16(list, off + 10);
        long sourceLba = Bytes.u64(list, off + 12);
        long destinationLba = Bytes.u64(list, off + 20);
        try {
            source.checkRange(sourceLba, blocks);
            destination.checkRange(destinationLba, blocks);
            destination.checkWritable();
        } catch (ScsiStatusException e) {
            // SPC-4 §5.17.7: an error a copy target reports ends the copy as COPY ABORTED.
            throw ScsiStatusException.check(SenseKey.COPY_ABORTED, AdditionalSense.NONE);
        }
        int blockSize = source.blockSize();
        long bytes = blocks * blockSize;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocate(Math.min(bytes, CHUNK_BYTES), 8);
            long chunkBlocks = buffer.byteSize() / blockSize;
            for (long done = 0; done < blocks; done += chunkBlocks) {
                long n = Math.min(chunkBlocks, blocks - done);
                MemorySegment chunk = buffer.asSlice(0, n * blockSize);
                source.copyRead(sourceLba + done, chunk);
                destination.copyWrite(destinationLba + done, chunk);
            }
        }
        return bytes;
    }

    private static LogicalUnit target(LogicalUnit[] copyTargets, int index) throws ScsiStatusException {
        if (index >= copyTargets.length) {
            throw ScsiStatusException.check(SenseKey.COPY_ABORTED, UNREACHABLE_COPY_TARGET);
        }
        if (copyTargets[index] == null) {
            throw ScsiStatusException.check(SenseKey.COPY_ABORTED, COPY_TARGET_NOT_REACHABLE);
        }
        return copyTargets[index];
    }

    private synchronized void hold(Nexus nexus, int listId, Status status) {
        Map<Integer, Status> statuses = held.computeIfAbsent(nexus, n -> new LinkedHashMap<>());
        statuses.remove(listId);
        if (statuses.size() >= MAX_HELD_PER_NEXUS) {
            statuses.remove(statuses.keySet().iterator().next());
        }
        statuses.put(listId, status);
    }

    private synchronized Status heldStatus(Nexus nexus, int listId) {
        Map<Integer, Status> statuses = held.get(nexus);
        return statuses == null ? null : statuses.get(listId);
    }

    /** The nexus ended, or the unit was reset (null: every nexus): held data goes (SPC-4 §5.17.4.5). */
    synchronized void discard(Nexus nexus) {
        if (nexus == null) {
            held.clear();
        } else {
            held.remove(nexus);
        }
    }

    // ---------------------------------------------------------------- RECEIVE COPY RESULTS

    void receiveCopyResults(ScsiTask t) throws ScsiStatusException {
        byte[] cdb = t.cdb();
        long allocation = Bytes.u32(cdb, 10);
        byte[] out = switch (cdb[1] & 0x1f) {
            case RECEIVE_COPY_STATUS -> {
                Status status = heldStatus(t.nexus(), Bytes.u8(cdb, 2));
                if (status == null) {
                    throw ScsiStatusException.invalidCdb(2, -1); // no copy with that list identifier
                }
                byte[] d = new byte[12];
                Bytes.put32(d, 0, 8);
                d[4] = 0x01; // COPY MANAGER STATUS: completed without errors
                Bytes.put16(d, 5, Math.min(status.segments(), 0xffff));
                boolean inBytes = status.bytes() <= 0xffff_ffffL;
                d[7] = (byte) (inBytes ? 0x00 : 0x01); // TRANSFER COUNT UNITS: bytes or KiB
                Bytes.put32(d, 8, inBytes ? status.bytes() : status.bytes() >>> 10);
                yield d;
            }
            case RECEIVE_OPERATING_PARAMETERS -> operatingParameters();
            default -> throw ScsiStatusException.invalidCdb(1, 4);
        };
        t.returnData(out, out.length, allocation);
    }

    private byte[] operatingParameters() {
        int[] implemented = {BLOCK_TO_BLOCK, IDENTIFICATION_DESCRIPTOR};
        byte[] d = new byte[44 + implemented.length];
        Bytes.put32(d, 0, d.length - 4);
        d[4] = 0x01; // SNLID: a copy without a list identifier is supported
        Bytes.put16(d, 8, MAX_TARGET_DESCRIPTORS);
        Bytes.put16(d, 10, MAX_SEGMENT_DESCRIPTORS);
        Bytes.put32(d, 12, MAX_DESCRIPTOR_LIST_LENGTH);
        Bytes.put32(d, 16, 0xffffL * unit.blockSize()); // MAXIMUM SEGMENT LENGTH: a full block count
        // MAXIMUM INLINE DATA LENGTH, HELD DATA LIMIT, MAXIMUM STREAM DEVICE TRANSFER SIZE: 0, none
        // Copies are not limited beyond the command window: report the largest counts the fields hold.
        Bytes.put16(d, 34, 0xffff); // TOTAL CONCURRENT COPIES
        d[36] = (byte) 0xff; // MAXIMUM CONCURRENT COPIES
        d[37] = (byte) Integer.numberOfTrailingZeros(unit.blockSize()); // DATA SEGMENT GRANULARITY (log2)
        d[43] = (byte) implemented.length;
        for (int i = 0; i < implemented.length; i++) {
            d[44 + i] = (byte) implemented[i];
        }
        return d;
    }
}
