package io.ostia.target.internal.iscsi;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The write data all connections of a target may buffer at once, and the share of it one
 * connection (one session: a session has one connection) may hold, a fraction in (0, 1]: below 1,
 * the rest stays for the others, so one session's writes, even whose data never comes, cannot
 * make another session see TASK SET FULL. A fraction rather than a byte count so that changing
 * the budget keeps the proportion. Counts the bytes every connection's {@link BufferPool} lent.
 */
final class WriteBudget {

    static final long DEFAULT_BYTES = 1L << 30;
    static final double DEFAULT_SHARE = 0.25;
    /** The smallest write buffer (a {@link BufferPool} size class): a smaller budget or share could buffer nothing. */
    static final long MIN_BYTES = 4096;

    private final long bytes;
    private final long perConnection;
    private final AtomicLong lent = new AtomicLong();

    WriteBudget(long bytes, double share) {
        check(bytes, share);
        this.bytes = bytes;
        this.perConnection = perConnection(bytes, share);
    }

    /** Throws {@link IllegalArgumentException} naming what is wrong with a budget and share. */
    static void check(long bytes, double share) {
        if (bytes < MIN_BYTES) {
            throw new IllegalArgumentException("write budget must be at least " + MIN_BYTES
                    + " bytes (the smallest write buffer), not " + bytes);
        }
        if (!(share > 0 && share <= 1)) {
            throw new IllegalArgumentException("write share must be a fraction of the write budget in (0, 1], not "
                    + share);
        }
        if (perConnection(bytes, share) < MIN_BYTES) {
            throw new IllegalArgumentException("write share " + share + " of a " + bytes + "-byte budget is "
                    + perConnection(bytes, share) + " bytes, under the smallest write buffer (" + MIN_BYTES + ")");
        }
    }

    private static long perConnection(long bytes, double share) {
        return share == 1 ? bytes : (long) (bytes * share);
    }

    long bytes() {
        return bytes;
    }

    /** What one connection may hold. */
    long perConnection() {
        return perConnection;
    }

    /** Whether a connection holding {@code lentHere} bytes may take a block of {@code block} more. */
    boolean affords(long lentHere, long block) {
        return lentHere + block <= perConnection && lent.get() + block <= bytes;
    }

    void lend(long block) {
        lent.addAndGet(block);
    }

    void giveBack(long block) {
        lent.addAndGet(-block);
    }

    /** Bytes lent by every connection now. */
    long lent() {
        return lent.get();
    }
}
