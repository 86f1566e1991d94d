package io.ostia.target;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * What backs one LUN: off-heap memory or a file, its block size (512 or 4096) and whether it is
 * read-only. Immutable; the {@code with} methods return changed copies.
 *
 * @param sizeBytes capacity; for a file, 0 means "the file's current size"
 * @param file      the backing file, or empty for memory
 */
public record LunSpec(long sizeBytes, Optional<Path> file, int blockSize, boolean readOnly) {

    public LunSpec {
        Objects.requireNonNull(file, "file");
        if (blockSize != 512 && blockSize != 4096) {
            throw new IllegalArgumentException("block size must be 512 or 4096 bytes, not " + blockSize);
        }
        if (sizeBytes < 0 || (file.isEmpty() && sizeBytes == 0)) {
            throw new IllegalArgumentException("LUN size must be positive, not " + sizeBytes);
        }
        if (sizeBytes % blockSize != 0) {
            throw new IllegalArgumentException("LUN size " + sizeBytes + " is not a multiple of the block size " + blockSize);
        }
    }

    /** A zero-filled RAM LUN of {@code sizeBytes} with 512-byte blocks. */
    public static LunSpec ram(long sizeBytes) {
        return new LunSpec(sizeBytes, Optional.empty(), 512, false);
    }

    /**
     * A LUN on {@code file} with 512-byte blocks: created or extended to {@code sizeBytes}, or
     * used at its current size when {@code sizeBytes} is 0.
     */
    public static LunSpec file(Path file, long sizeBytes) {
        return new LunSpec(sizeBytes, Optional.of(file), 512, false);
    }

    public LunSpec withBlockSize(int bytes) {
        return new LunSpec(sizeBytes, file, bytes, readOnly);
    }

    public LunSpec withReadOnly(boolean value) {
        return new LunSpec(sizeBytes, file, blockSize, value);
    }
}
