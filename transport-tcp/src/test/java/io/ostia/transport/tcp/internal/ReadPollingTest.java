package io.ostia.transport.tcp.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The choice between polling and sleeping, driven by a clock and the PDU rates each mode gets
 * in the test. The mode changes for one trial period in every KEPT + 1, so the assertions look
 * at the share of periods spent polling rather than at the last one.
 */
class ReadPollingTest {

    private static final long PERIOD = 1_000_000;
    private static final int KEPT = 4;

    private long now;

    /** Runs {@code periods} periods at the given rates; returns the share spent polling. */
    private double run(ReadPolling polling, int periods, int pollingRate, int sleepingRate) {
        int pollingPeriods = 0;
        for (int p = 0; p < periods; p++) {
            boolean polls = polling.polling();
            pollingPeriods += polls ? 1 : 0;
            int pdus = polls ? pollingRate : sleepingRate;
            long start = now;
            for (int i = 1; i <= pdus; i++) {
                now = start + PERIOD * i / pdus; // the last PDU lands on the period's end and closes it
                polling.handled(now);
            }
        }
        return (double) pollingPeriods / periods;
    }

    @Test
    void startsPollingAndKeepsItWhenItIsFaster() {
        ReadPolling polling = new ReadPolling(200, PERIOD, KEPT, now);
        assertTrue(polling.polling());
        assertEquals(200, polling.pollsPerWait());
        double share = run(polling, 50, 200, 100);
        assertTrue(share >= 0.75, "polling twice as fast is kept but for trials: " + share);
    }

    @Test
    void changesToSleepingWhenPollingStarvesTheTarget() {
        ReadPolling polling = new ReadPolling(200, PERIOD, KEPT, now);
        run(polling, 2 * (KEPT + 1), 100, 150);
        double share = run(polling, 50, 100, 150);
        assertTrue(share <= 0.25, "sleeping did better and is kept but for trials: " + share);
    }

    @Test
    void sleepingWinsATieAndPollingMustWinClearly() {
        ReadPolling polling = new ReadPolling(200, PERIOD, KEPT, now);
        run(polling, 2 * (KEPT + 1), 100, 100);
        assertTrue(run(polling, 50, 100, 100) <= 0.25, "a tie goes to sleeping, which costs less CPU");
        assertTrue(run(polling, 50, 105, 100) <= 0.25, "polling 5% faster does not pay for its CPU");
        run(polling, 2 * (KEPT + 1), 150, 100);
        assertTrue(run(polling, 50, 150, 100) >= 0.75, "polling half again as fast is chosen back");
    }

    @Test
    void neverPollsWhenPollingIsOff() {
        ReadPolling polling = new ReadPolling(0, PERIOD, KEPT, now);
        assertFalse(polling.polling());
        assertEquals(0.0, run(polling, 50, 1000, 1));
        assertEquals(0, polling.pollsPerWait());
    }
}
