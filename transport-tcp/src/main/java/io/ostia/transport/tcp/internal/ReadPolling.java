package io.ostia.transport.tcp.internal;

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
 * <p>Receive thread only; no locking.
 */
final class ReadPolling {

    /** A trial of polling must beat sleeping by this much: polling costs CPU. */
    private static final double POLLING_MARGIN = 1.10;
    /** A trial of sleeping need only come this close to polling. */
    private static final double SLEEPING_MARGIN = 0.97;

    private final int pollsPerWait;
    private final long periodNanos;
    private final int keptPeriods;

    private boolean polling;
    private boolean trial;
    private int periodsKept;
    private long periodStart;
    private long handled;
    /** PDUs per nanosecond of the last period of the mode kept, against which a trial is judged. */
    private double keptRate;

    /**
     * @param pollsPerWait reads tried before sleeping while polling; 0 never polls
     * @param periodNanos  length of one measured period
     * @param keptPeriods  periods a mode is kept between trials of the other
     * @param now          System.nanoTime() now
     */
    ReadPolling(int pollsPerWait, long periodNanos, int keptPeriods, long now) {
        this.pollsPerWait = Math.max(0, pollsPerWait);
        this.periodNanos = periodNanos;
        this.keptPeriods = keptPeriods;
        this.polling = this.pollsPerWait > 0;
        this.periodStart = now;
    }

    /** Reads to try before sleeping now: 0 when sleeping at once is the better mode. */
    int pollsPerWait() {
        return polling ? pollsPerWait : 0;
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
