package io.ostia.target;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * What backs one LUN: off-heap memory or a file, its block size (512 or 4096), whether it is
 * read-only, and how many logical blocks it reports per physical block. Immutable; the
 * {@code with} methods return changed copies.
 *
 * @param sizeBytes capacity; for a file, 0 means "the file's current size"
 * @param file      the backing file, or empty for memory
 * @param physicalBlockExponent LOGICAL BLOCKS PER PHYSICAL BLOCK EXPONENT (SBC-3 READ CAPACITY
 *     (16)): 2^n logical blocks per physical block, 0..15
 * @param removable whether the LUN reports a removable medium, which START STOP UNIT ejects and
 *     loads and PREVENT ALLOW MEDIUM REMOVAL holds
 */
public record LunSpec(long sizeBytes, Optional<Path> file, int blockSize, boolean readOnly,
        int physicalBlockExponent, boolean removable) {

    public LunSpec {
        Objects.requireNonNull(file, "file");
        if (blockSize != 512 && blockSize != 4096) {
            throw new IllegalArgumentException("block size must be 512 or 4096 bytes, not " + blockSize);
        }
        if (sizeBytes < 0 || (file.isEmpty() && sizeBytes == 0)) {
            throw new IllegalArgumentException("LUN size must be positive, not " + sizeBytes);
        }
        if (physicalBlockExponent < 0 || physicalBlockExponent > 15) {
            throw new IllegalArgumentException("physical block exponent must be in 0..15, not " + physicalBlockExponent);
        }
        if (sizeBytes % blockSize != 0) {
            throw new IllegalArgumentException("LUN size " + sizeBytes + " is not a multiple of the block size " + blockSize);
        }
    }

    /** A zero-filled RAM LUN of {@code sizeBytes} with 512-byte blocks. */
    public static LunSpec ram(long sizeBytes) {
        return new LunSpec(sizeBytes, Optional.empty(), 512, false, 0, false);
    }

    /**
     * A LUN on {@code file} with 512-byte blocks: created or extended to {@code sizeBytes}, or
     * used at its current size when {@code sizeBytes} is 0.
     */
    public static LunSpec file(Path file, long sizeBytes) {
        return new LunSpec(sizeBytes, Optional.of(file), 512, false, 0, false);
    }

    public LunSpec withBlockSize(int bytes) {
        return new LunSpec(sizeBytes, file, bytes, readOnly, physicalBlockExponent, removable);
    }

    public LunSpec withReadOnly(boolean value) {
        return new LunSpec(sizeBytes, file, blockSize, value, physicalBlockExponent, removable);
    }

    /**
     * Reports 2^{@code exponent} logical blocks per physical block, as a disk with 4 KiB sectors
     * and 512-byte logical blocks does (exponent 3); initiators then align their I/O and unmaps.
     */
    public LunSpec withPhysicalBlockExponent(int exponent) {
        return new LunSpec(sizeBytes, file, blockSize, readOnly, exponent, removable);
    }

    /** Reports a removable medium (INQUIRY RMB), as a virtual CD or USB stick would. */
    public LunSpec withRemovableMedium(boolean value) {
        return new LunSpec(sizeBytes, file, blockSize, readOnly, physicalBlockExponent, value);
    }
}
