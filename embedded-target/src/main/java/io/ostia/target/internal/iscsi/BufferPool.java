package io.ostia.target.internal.iscsi;

import io.ostia.api.pdu.CommandHeader;
import io.ostia.api.pdu.DataPlacement;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * Off-heap buffers for one connection's write data, reused by power-of-two size class so a
 * steady stream of writes allocates nothing. Confined to the connection's receive thread; every
 * buffer has its own arena, so one given back beyond the pool's size is freed at once, and
 * {@link #close()} frees the rest.
 */
final class BufferPool implements AutoCloseable {

    private static final int MIN_CLASS = 12; // 4 KiB
    private static final int MAX_CLASS = 28; // 256 MiB, the largest transfer a LUN accepts
    /** Buffers above 4 MiB are freed when given back rather than kept for reuse. */
    private static final int MAX_POOLED_CLASS = 22;
    private static final int KEEP_PER_CLASS = 16;
    /**
     * Small classes keep up to this many bytes instead: a full command window of 4 KiB I/Os
     * (the iSER mover lends reads too) must not free and re-register a buffer per command.
     */
    private static final long KEEP_BYTES_PER_CLASS = 8L << 20;
    /** The target's write budget and one connection's share of it, shared by every pool; beyond either, TASK SET FULL. */
    private final WriteBudget budget;
    /** Bytes lent by this pool. */
    private long lentHere;

    /** @param attachment what the listener made of the block's memory (the iSER mover: its registration) */
    private record Block(Arena arena, MemorySegment whole, Object attachment) {
    }

    /**
     * Told of each block's memory when it is allocated and before it is freed, on the pool's
     * thread: the iSER mover registers a block for RDMA once, not per transfer. Every buffer
     * {@link #take} lends starts at the start of its block.
     */
    interface Listener {
        Listener NONE = new Listener() {
            @Override
            public Object allocated(MemorySegment block) {
                return null;
            }

            @Override
            public void freeing(MemorySegment block, Object attachment) {
            }
        };

        /**
         * A new block; returns what the pool keeps with it ({@link #attachment}). If this throws,
         * the block is freed and {@link #take} throws it.
         */
        Object allocated(MemorySegment block);

        void freeing(MemorySegment block, Object attachment);
    }

    private final Listener listener;

    private final List<ArrayDeque<Block>> free = new ArrayList<>();
    /** Buffers handed out, by the slice given to the caller (an identity map: a lookup makes no object). */
    private final Map<MemorySegment, Block> lent = new IdentityHashMap<>();

    /** @param budget the target's, shared by every connection's pool */
    BufferPool(WriteBudget budget) {
        this(budget, Listener.NONE);
    }

    BufferPool(WriteBudget budget, Listener listener) {
        this.budget = budget;
        this.listener = listener;
        for (int c = 0; c <= MAX_CLASS; c++) {
            free.add(new ArrayDeque<>());
        }
    }

    static long maxBuffer() {
        return 1L << MAX_CLASS;
    }

    private static int sizeClass(long bytes) {
        int c = 64 - Long.numberOfLeadingZeros(Math.max(bytes, 1) - 1);
        return Math.max(c, MIN_CLASS);
    }

    /** A buffer of exactly {@code bytes}, {@code 0 < bytes <= maxBuffer()}. */
    MemorySegment take(long bytes) {
        int c = sizeClass(bytes);
        if (c > MAX_CLASS) {
            throw new IllegalArgumentException("buffer of " + bytes + " bytes exceeds the " + maxBuffer() + " byte limit");
        }
        Block block = free.get(c).poll();
        if (block == null) {
            Arena arena = Arena.ofShared();
            MemorySegment whole = arena.allocate(1L << c, 4096);
            try {
                block = new Block(arena, whole, listener.allocated(whole));
            } catch (RuntimeException e) {
                arena.close();
                throw e;
            }
        }
        // A buffer the size of its block is the block itself: no view made per buffer.
        MemorySegment slice = DataPlacement.leading(block.whole(), bytes);
        lent.put(slice, block);
        budget.lend(block.whole().byteSize());
        lentHere += block.whole().byteSize();
        return slice;
    }

    /**
     * The whole write buffer for {@code header} when it is a write (not bidirectional) whose
     * {@code length} bytes of immediate data fit its expected length and the budget allows it;
     * otherwise null, and the decoder allocates (the command is refused later).
     */
    MemorySegment forImmediateData(CommandHeader c, int length) {
        if (c.write() && !c.read()) {
            long expected = Integer.toUnsignedLong(c.expectedDataTransferLength());
            if (length <= expected && affords(expected)) {
                return take(expected);
            }
        }
        return null;
    }

    /** Whether lending {@code bytes} more keeps this connection within its share and the target within its budget. */
    boolean affords(long bytes) {
        return bytes <= maxBuffer() && budget.affords(lentHere, 1L << sizeClass(bytes));
    }

    /**
     * What the listener attached to the block of {@code buffer}, a buffer this pool lent and has
     * not had back: asked by the buffer itself, so it cannot be another take's (no allocation).
     *
     * @throws IllegalArgumentException when this pool has not lent {@code buffer}
     */
    Object attachment(MemorySegment buffer) {
        Block block = lent.get(buffer);
        if (block == null) {
            throw new IllegalArgumentException("the buffer pool did not lend this segment (" + buffer.byteSize()
                    + " bytes) or has had it back: it has no attachment here");
        }
        return block.attachment();
    }

    /** Gives back a buffer from {@link #take}; unknown segments are ignored. */
    void give(MemorySegment buffer) {
        Block block = lent.remove(buffer);
        if (block == null) {
            return;
        }
        budget.giveBack(block.whole().byteSize());
        lentHere -= block.whole().byteSize();
        int c = sizeClass(block.whole().byteSize());
        if (c <= MAX_POOLED_CLASS && free.get(c).size() < Math.max(KEEP_PER_CLASS, KEEP_BYTES_PER_CLASS >> c)) {
            free.get(c).add(block);
        } else {
            free(block);
        }
    }

    /** Frees every buffer, pooled or still lent. */
    @Override
    public void close() {
        for (ArrayDeque<Block> queue : free) {
            queue.forEach(this::free);
            queue.clear();
        }
        long lentBytes = 0;
        for (Block b : lent.values()) {
            lentBytes += b.whole().byteSize();
            free(b);
        }
        lent.clear();
        budget.giveBack(lentBytes);
        lentHere = 0;
    }

    private void free(Block block) {
        try {
            listener.freeing(block.whole(), block.attachment());
        } finally {
            block.arena().close();
        }
    }
}
