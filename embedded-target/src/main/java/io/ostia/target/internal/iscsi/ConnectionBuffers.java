package io.ostia.target.internal.iscsi;

import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;

/**
 * The large off-heap receive and send buffers of logged-in TCP connections, shared by a
 * target's portals and bounded in total: a connection takes a pair only once login completed
 * (before that it makes do with a few KiB on the heap), and runs on its small buffers when the
 * bound is reached. Pairs given back are kept for the next login (up to {@link #KEEP}), so
 * connection churn does not allocate and free off-heap memory each time.
 */
final class ConnectionBuffers {

    static final int RECEIVE = 256 << 10;
    static final int SEND = 1024 << 10;
    private static final long PAIR = RECEIVE + SEND;
    /** What every pair of a target may hold at once. */
    static final long BOUND = 128L << 20;
    private static final int KEEP = 8;

    /** A receive and a send buffer in one arena. */
    record Pair(Arena arena, ByteBuffer receive, ByteBuffer send) {
    }

    private final long bound;
    private final ArrayDeque<Pair> free = new ArrayDeque<>();
    private long allocated;

    ConnectionBuffers() {
        this(BOUND);
    }

    ConnectionBuffers(long bound) {
        this.bound = bound;
    }

    /** A cleared pair, or null when the bound is reached. */
    Pair take() {
        synchronized (this) {
            Pair pair = free.poll();
            if (pair != null) {
                pair.receive().clear();
                pair.send().clear();
                return pair;
            }
            if (allocated + PAIR > bound) {
                return null;
            }
            allocated += PAIR;
        }
        Arena arena = Arena.ofShared();
        try {
            return new Pair(arena, arena.allocate(RECEIVE, 4096).asByteBuffer(), arena.allocate(SEND, 4096).asByteBuffer());
        } catch (RuntimeException | OutOfMemoryError e) {
            arena.close();
            synchronized (this) {
                allocated -= PAIR;
            }
            throw e;
        }
    }

    /** Gives back a pair from {@link #take}: kept for reuse, or freed. */
    void give(Pair pair) {
        synchronized (this) {
            if (free.size() < KEEP) {
                free.add(pair);
                return;
            }
            allocated -= PAIR;
        }
        pair.arena().close();
    }

    /** Off-heap bytes held now, lent or kept. */
    synchronized long allocated() {
        return allocated;
    }

    /** Frees the kept pairs (the target stopped; every connection gave its pair back). */
    void close() {
        Pair pair;
        while ((pair = poll()) != null) {
            pair.arena().close();
        }
    }

    private synchronized Pair poll() {
        Pair pair = free.poll();
        if (pair != null) {
            allocated -= PAIR;
        }
        return pair;
    }
}
