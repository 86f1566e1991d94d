package io.ostia.target.internal.store;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** A LUN held in zero-initialised off-heap memory, released by {@link #close()}. */
public final class RamStore extends AbstractStore {

    private final Arena arena;
    private final MemorySegment memory;

    public RamStore(long sizeBytes, int blockSize, boolean readOnly) {
        super(sizeBytes, blockSize, readOnly);
        this.arena = Arena.ofShared();
        try {
            this.memory = arena.allocate(sizeBytes, 4096);
        } catch (OutOfMemoryError | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    @Override
    public void read(long offset, MemorySegment dst) {
        MemorySegment.copy(memory, offset, dst, 0, dst.byteSize());
    }

    @Override
    public boolean lendsMemory() {
        return true;
    }

    @Override
    public MemorySegment view(long offset, long length) {
        return memory.asSlice(offset, length).asReadOnly();
    }

    @Override
    public void write(long offset, MemorySegment src) {
        MemorySegment.copy(src, 0, memory, offset, src.byteSize());
    }

    @Override
    public void unmap(long offset, long length) {
        memory.asSlice(offset, length).fill((byte) 0);
    }

    /** Memory is the store itself: no more durable medium lies behind a cache. */
    @Override
    public boolean volatileWriteCache() {
        return false;
    }

    @Override
    public void flush() {
        // Memory is as durable as it gets.
    }

    @Override
    public synchronized void close() {
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }

    /** Whether the off-heap memory is still allocated (tests check release). */
    public boolean isOpen() {
        return arena.scope().isAlive();
    }
}
