package io.ostia.target.internal.store;

import java.io.IOException;
import java.lang.foreign.MemorySegment;

/**
 * The bytes behind one logical unit. Offsets and lengths are in bytes and always lie inside
 * {@link #sizeBytes()}; callers (the SCSI layer) check ranges against the LBA space first.
 * Implementations are safe for concurrent reads and writes from several connection threads.
 */
public interface BackingStore extends AutoCloseable {

    /** Capacity in bytes, a multiple of {@link #blockSize()}. */
    long sizeBytes();

    /** Logical block size in bytes: 512 or 4096. */
    int blockSize();

    /** Whether writes are refused (the LU reports write protection). */
    boolean readOnly();

    /** Copies {@code dst.byteSize()} bytes starting at {@code offset} into {@code dst}. */
    void read(long offset, MemorySegment dst) throws IOException;

    /** Copies {@code src} to the store starting at {@code offset}. */
    void write(long offset, MemorySegment src) throws IOException;

    /** Deallocates a range; afterwards it reads back as zeros. */
    void unmap(long offset, long length) throws IOException;

    /**
     * A read-only view of {@code length} bytes at {@code offset} when the store can lend its own
     * memory (valid until the store closes), or null when data must be copied with {@link #read}.
     */
    default MemorySegment view(long offset, long length) {
        return null;
    }

    /** Whether {@link #view} lends memory (so reads need no copy before they are sent). */
    default boolean lendsMemory() {
        return false;
    }

    /**
     * Whether completed writes may sit in a volatile cache until {@link #flush()}: the LU then
     * reports WCE in the Caching mode page, so initiators know to send SYNCHRONIZE CACHE. A store
     * whose memory is all there is (nothing more durable to flush to) answers false.
     */
    default boolean volatileWriteCache() {
        return true;
    }

    /** Makes every completed write durable (SYNCHRONIZE CACHE). */
    void flush() throws IOException;

    /** Releases the memory or file handle; idempotent. */
    @Override
    void close() throws IOException;

    /** Checks a size/block-size pair shared by every store kind. */
    static void checkGeometry(long sizeBytes, int blockSize) {
        if (blockSize != 512 && blockSize != 4096) {
            throw new IllegalArgumentException("block size must be 512 or 4096 bytes, not " + blockSize);
        }
        if (sizeBytes <= 0 || sizeBytes % blockSize != 0) {
            throw new IllegalArgumentException("LUN size must be a positive multiple of the block size "
                    + blockSize + ", not " + sizeBytes + " bytes");
        }
    }
}
