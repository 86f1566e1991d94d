package io.ostia.transport.tcp.internal;

import java.util.function.IntSupplier;

/**
 * Whether the receive thread polls the socket for a while before sleeping in the selector
 * when only one or two answers are due, chosen by measurement.
 *
 * <p>On a quiet machine the wake-up from a sleep costs more than the target's work, and
 * polling doubles depth-1 IOPS; on a busy one the target needs the very CPU the polling burns,
 * and sleeping at once wins by as much. Neither is known in advance, so the thread counts the
 * PDUs it handles per period: it keeps its mode for {@code keptPeriods} periods, then tries the
 * other for one and changes only if that did better. Sleeping wins a tie (it costs less CPU);
 * polling must do clearly better to be chosen.
 *
 * <p>While polling, each spin is also judged by its outcome, so that it burns CPU only while it
 * pays: a spin that finds the answer is a hit, one that runs out and sleeps anyway a miss. The
 * spin is cut to twice the reads recent hits took (an answer that comes sooner needs no longer
 * spin), and when fewer than half the spins hit (answers slower than the spin, tgtd's), polling
 * pauses for {@link #PAUSED_WAITS} sleeps before it tries again at full length. It never spins
 * while the machine's CPUs are oversubscribed (as many threads runnable besides this one as
 * CPUs, averaged over periods): the spin would take the CPU the target and others need.
 *
 * <p>Receive thread only; no locking.
 */
final class ReadPolling {

    /** A trial of polling must beat sleeping by this much: polling costs CPU. */
    private static final double POLLING_MARGIN = 1.10;
    /** A trial of sleeping need only come this close to polling. */
    private static final double SLEEPING_MARGIN = 0.97;

    /** Sleeps without polling after spins stopped paying, before a spin is tried again. */
    static final int PAUSED_WAITS = 256;
    /** The shortest spin the adaptation cuts to. */
    private static final int MIN_SPIN = 8;
    /** Spin outcomes and lengths are averaged with this weight (1/16) on the newest. */
    private static final int SHIFT = 4;
    private static final int ONE = 1 << 16;

    private final int pollsPerWait;
    private final long periodNanos;
    private final int keptPeriods;
    /** Runnable threads on the machine besides the caller, or a negative number when unknown. */
    private final IntSupplier othersRunnable;
    private final int cpus;

    /** Reads a spin tries now, adapted to the hits; at most {@link #pollsPerWait}. */
    private int spinLimit;
    /** Share of recent spins that hit, in units of {@link #ONE}. */
    private int hitRate = ONE;
    /** Average reads recent hits took, in units of {@link #ONE}. */
    private long hitReads;
    /** Sleeps left before spinning is tried again; 0 when not paused. */
    private int pausedWaits;
    /** Others' runnable threads, averaged over periods, in units of {@link #ONE}. */
    private long othersAverage;

    private boolean polling;
    private boolean trial;
    private int periodsKept;
    private long periodStart;
    private long handled;
    /** PDUs per nanosecond of the last period of the mode kept, against which a trial is judged. */
    private double keptRate;

    /**
     * @param pollsPerWait   reads tried before sleeping while polling; 0 never polls
     * @param periodNanos    length of one measured period
     * @param keptPeriods    periods a mode is kept between trials of the other
     * @param now            System.nanoTime() now
     * @param othersRunnable runnable threads on the machine besides the caller (negative: unknown),
     *                       asked once a period
     * @param cpus           CPUs the machine has
     */
    ReadPolling(int pollsPerWait, long periodNanos, int keptPeriods, long now,
            IntSupplier othersRunnable, int cpus) {
        this.pollsPerWait = Math.max(0, pollsPerWait);
        this.periodNanos = periodNanos;
        this.keptPeriods = keptPeriods;
        this.othersRunnable = othersRunnable;
        this.cpus = cpus;
        this.polling = this.pollsPerWait > 0;
        this.spinLimit = this.pollsPerWait;
        this.periodStart = now;
    }

    /** Reads to try before sleeping now: 0 when sleeping at once is the better mode. */
    int pollsPerWait() {
        return polling && pausedWaits == 0 && !oversubscribed() ? spinLimit : 0;
    }

    /** Whether others' runnable threads, averaged, fill the machine's CPUs. */
    boolean oversubscribed() {
        return othersAverage >= (long) cpus * ONE;
    }

    /** A spin found the answer after {@code reads} empty reads. */
    void spinHit(int reads) {
        hitRate += (ONE - hitRate) >> SHIFT;
        hitReads += (((long) reads << 16) - hitReads) >> SHIFT;
        spinLimit = (int) Math.clamp(2 * (hitReads >> 16) + 1, Math.min(MIN_SPIN, pollsPerWait), pollsPerWait);
    }

    /** A spin ran out of reads: the answer needs a sleep anyway. */
    void spinMissed() {
        hitRate -= hitRate >> SHIFT;
        if (hitRate < ONE / 2) {
            // Answers come later than the spin: sleep at once for a while, then try at full length.
            pausedWaits = PAUSED_WAITS;
            hitRate = ONE;
            hitReads = 0;
            spinLimit = pollsPerWait;
        }
    }

    /** The thread sleeps in the selector for an answer. */
    void slept() {
        if (pausedWaits > 0) {
            pausedWaits--;
        }
    }

    boolean polling() {
        return polling;
    }

    /** Counts a PDU handled; at the end of a period, judges it. */
    void handled(long now) {
        handled++;
        long elapsed = now - periodStart;
        if (elapsed < periodNanos || pollsPerWait == 0) {
            return;
        }
        double rate = (double) handled / elapsed;
        handled = 0;
        periodStart = now;
        int others = othersRunnable.getAsInt();
        if (others >= 0) {
            othersAverage += (((long) others << 16) - othersAverage) >> 2;
        }
        if (trial) {
            trial = false;
            boolean better = polling ? rate > keptRate * POLLING_MARGIN : rate >= keptRate * SLEEPING_MARGIN;
            if (better) {
                keptRate = rate;
            } else {
                polling = !polling; // back to the mode kept
            }
            periodsKept = 0;
        } else if (++periodsKept >= keptPeriods) {
            keptRate = rate;
            trial = true;
            polling = !polling;
        } else {
            keptRate = rate;
        }
    }
}
