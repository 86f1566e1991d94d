package io.ostia.transport.iser.internal;

import io.ostia.rdma.MemoryAccess;
import io.ostia.rdma.MemoryRegion;
import io.ostia.rdma.ProtectionDomain;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Set;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Fixed-size buffers in one registered slab, made once per connection so that the data path
 * registers nothing and allocates nothing: the receive buffers it posts, and the send buffers
 * that hold the iSER header, the iSCSI header and a control PDU's data. Slots are numbered;
 * {@link #take} and {@link #give} lend send slots out (receives are reposted by number).
 */
final class BufferPool implements AutoCloseable {

    private final Arena arena = Arena.ofShared();
    private final MemoryRegion region;
    private final int slotSize;
    private final MemorySegment[] slots;
    private final ByteBuffer[] views;
    /** Free slot numbers, a stack; guarded by itself. */
    private final int[] free;
    private int freeCount;
    private final Semaphore available;

    BufferPool(ProtectionDomain pd, int count, int slotSize, Set<MemoryAccess> access) {
        this.slotSize = slotSize;
        MemorySegment slab = arena.allocate((long) count * slotSize, 64);
        try {
            region = pd.registerMemory(slab, access);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
        slots = new MemorySegment[count];
        views = new ByteBuffer[count];
        free = new int[count];
        for (int i = 0; i < count; i++) {
            slots[i] = slab.asSlice((long) i * slotSize, slotSize);
            views[i] = slots[i].asByteBuffer().order(ByteOrder.BIG_ENDIAN);
            free[i] = count - 1 - i;
        }
        freeCount = count;
        available = new Semaphore(count);
    }

    int count() {
        return slots.length;
    }

    int slotSize() {
        return slotSize;
    }

    MemoryRegion region() {
        return region;
    }

    /** The offset of slot {@code index} inside the {@link #region()}. */
    long offset(int index) {
        return (long) index * slotSize;
    }

    MemorySegment slot(int index) {
        return slots[index];
    }

    /** A reusable big-endian view of the slot, cleared. Only for the slot's current user. */
    ByteBuffer view(int index) {
        return views[index].clear();
    }

    /**
     * Lends a free slot, waiting at most {@code timeoutNanos} for one.
     *
     * @return the slot number, or -1 when none came free in time
     */
    int take(long timeoutNanos) throws InterruptedException {
        if (!available.tryAcquire(timeoutNanos, TimeUnit.NANOSECONDS)) {
            return -1;
        }
        synchronized (free) {
            return free[--freeCount];
        }
    }

    void give(int index) {
        synchronized (free) {
            free[freeCount++] = index;
        }
        available.release();
    }

    /** Deregisters and frees the slab; nothing posted may still point into it. */
    @Override
    public void close() {
        try {
            region.close();
        } finally {
            arena.close();
        }
    }
}
