package io.ostia.target.internal.store;

import java.io.EOFException;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.EnumSet;
import java.util.Set;

/**
 * A LUN backed by a regular file through positional {@link FileChannel} I/O. The file is created
 * (or extended) to the requested size when writable; SYNCHRONIZE CACHE forces it to the device.
 */
public final class FileStore extends AbstractStore {

    private static final int ZERO_CHUNK = 1 << 20;
    /** Zeros {@link #unmap} writes from, shared read-only: each call writes a duplicate's slices. */
    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(ZERO_CHUNK).asReadOnlyBuffer();

    private final Path path;
    private final FileChannel channel;

    /**
     * Opens {@code path}. With {@code sizeBytes <= 0} the file's current size is used (it must
     * then be a non-empty multiple of the block size); otherwise a writable file is created or
     * extended to that size, and a read-only file must be at least that large.
     */
    public FileStore(Path path, long sizeBytes, int blockSize, boolean readOnly) throws IOException {
        this(path, open(path, readOnly), sizeBytes, blockSize, readOnly);
    }

    private FileStore(Path path, FileChannel channel, long sizeBytes, int blockSize, boolean readOnly)
            throws IOException {
        super(prepare(path, channel, sizeBytes, blockSize, readOnly), blockSize, readOnly);
        this.path = path;
        this.channel = channel;
    }

    private static FileChannel open(Path path, boolean readOnly) throws IOException {
        Set<StandardOpenOption> options = readOnly
                ? EnumSet.of(StandardOpenOption.READ)
                : EnumSet.of(StandardOpenOption.READ, StandardOpenOption.WRITE, StandardOpenOption.CREATE);
        return FileChannel.open(path, options);
    }

    /** Checks and (for a writable file) extends the file; closes the channel when that fails. */
    private static long prepare(Path path, FileChannel channel, long sizeBytes, int blockSize, boolean readOnly)
            throws IOException {
        try {
            long current = channel.size();
            long size = sizeBytes > 0 ? sizeBytes : current;
            BackingStore.checkGeometry(size, blockSize);
            if (current < size) {
                if (readOnly) {
                    throw new IOException("read-only LUN file " + path + " holds " + current
                            + " bytes, fewer than the requested " + size);
                }
                // Sparse extension: write the last byte.
                channel.write(ByteBuffer.wrap(new byte[1]), size - 1);
            }
            return size;
        } catch (IOException | RuntimeException e) {
            try {
                channel.close();
            } catch (IOException closeFailure) {
                e.addSuppressed(closeFailure);
            }
            throw e;
        }
    }

    @Override
    public void read(long offset, MemorySegment dst) throws IOException {
        ByteBuffer buffer = dst.asByteBuffer();
        long position = offset;
        while (buffer.hasRemaining()) {
            int n = channel.read(buffer, position);
            if (n < 0) {
                throw new EOFException("LUN file " + path + " ended at " + position
                        + " while reading " + dst.byteSize() + " bytes at " + offset);
            }
            position += n;
        }
    }

    @Override
    public void write(long offset, MemorySegment src) throws IOException {
        ByteBuffer buffer = src.asByteBuffer();
        long position = offset;
        while (buffer.hasRemaining()) {
            position += channel.write(buffer, position);
        }
    }

    @Override
    public void unmap(long offset, long length) throws IOException {
        // FileChannel cannot punch holes; zero-fill keeps the "reads back as zeros" promise.
        long position = offset;
        long end = offset + length;
        while (position < end) {
            ByteBuffer zeros = ZEROS.duplicate().limit((int) Math.min(ZERO_CHUNK, end - position));
            while (zeros.hasRemaining()) {
                position += channel.write(zeros, position);
            }
        }
    }

    @Override
    public void flush() throws IOException {
        channel.force(false);
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    public boolean isOpen() {
        return channel.isOpen();
    }
}
