package io.ostia.target.internal.iscsi;

import java.lang.System.Logger.Level;
import java.time.Duration;

/**
 * One kind of peer-caused event, logged at most once per interval: a peer that repeats it cannot
 * fill the log. The first occurrence in an interval is logged with how many were left out since
 * the last line.
 */
final class RateLimitedLog {

    private final System.Logger log;
    private final long intervalNanos;
    private long lastNanos;
    private boolean logged;
    private long suppressed;

    RateLimitedLog(System.Logger log, Duration interval) {
        this.log = log;
        this.intervalNanos = interval.toNanos();
    }

    /** Logs {@code message} unless this log wrote a line less than an interval ago; thread-safe. */
    void log(Level level, String message) {
        long left;
        synchronized (this) {
            long now = System.nanoTime();
            if (logged && now - lastNanos < intervalNanos) {
                suppressed++;
                return;
            }
            left = suppressed;
            suppressed = 0;
            lastNanos = now;
            logged = true;
        }
        log.log(level, left == 0 ? message : message + " (" + left + " more like this in the last "
                + intervalNanos / 1_000_000_000 + " s not logged)");
    }
}
