package io.ostia.api;

import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * A SCSI command to pass through a session as it is.
 *
 * @param lun       the logical unit number
 * @param cdb       the command descriptor block (6 to 260 bytes)
 * @param direction which way data moves
 * @param buffer    the data buffer: source of a WRITE, destination of a READ, an empty segment
 *                  for NONE. Must be native memory (it may be registered for RDMA) that other
 *                  threads may access (a shared, automatic or global arena); its size is the
 *                  expected data transfer length.
 */
public record ScsiRequest(int lun, byte[] cdb, Direction direction, MemorySegment buffer) {

    public enum Direction { NONE, READ, WRITE }

    /** A thread that owns no arena: a buffer it can access is one any transport thread can. */
    private static final Thread OTHER_THREAD = Thread.ofPlatform().unstarted(() -> { });

    public ScsiRequest {
        Objects.requireNonNull(cdb, "cdb");
        Objects.requireNonNull(direction, "direction");
        Objects.requireNonNull(buffer, "buffer");
        if (cdb.length < 6 || cdb.length > 260) {
            throw new IllegalArgumentException("CDB length " + cdb.length + " is outside 6..260");
        }
        if (direction == Direction.NONE && buffer.byteSize() != 0) {
            throw new IllegalArgumentException("a command without data needs an empty buffer, got " + buffer.byteSize() + " bytes");
        }
        if (direction != Direction.NONE && !buffer.isNative()) {
            throw new IllegalArgumentException("data buffers must be native (off-heap) memory segments");
        }
        if (direction != Direction.NONE && !buffer.isAccessibleBy(OTHER_THREAD)) {
            throw new IllegalArgumentException("data buffers must come from a shared, automatic or global arena:"
                    + " the transport fills and drains them on its own threads, which a confined arena forbids");
        }
        if (buffer.byteSize() > 0xffff_ffffL) {
            throw new IllegalArgumentException("buffer of " + buffer.byteSize() + " bytes exceeds the 4 GiB iSCSI transfer limit");
        }
    }

    public static ScsiRequest none(int lun, byte[] cdb) {
        return new ScsiRequest(lun, cdb, Direction.NONE, MemorySegment.NULL);
    }

    public static ScsiRequest read(int lun, byte[] cdb, MemorySegment buffer) {
        return new ScsiRequest(lun, cdb, Direction.READ, buffer);
    }

    public static ScsiRequest write(int lun, byte[] cdb, MemorySegment buffer) {
        return new ScsiRequest(lun, cdb, Direction.WRITE, buffer);
    }

    /** The operation code, for messages. */
    public String describe() {
        return String.format("SCSI opcode 0x%02x on LUN %d", cdb[0] & 0xff, lun);
    }
}
