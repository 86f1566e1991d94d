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
        ReadPolling polling = new ReadPolling(200, PERIOD, KEPT, now, () -> 0, 2);
        assertTrue(polling.polling());
        assertEquals(200, polling.pollsPerWait());
        double share = run(polling, 50, 200, 100);
        assertTrue(share >= 0.75, "polling twice as fast is kept but for trials: " + share);
    }

    @Test
    void changesToSleepingWhenPollingStarvesTheTarget() {
        ReadPolling polling = new ReadPolling(200, PERIOD, KEPT, now, () -> 0, 2);
        run(polling, 2 * (KEPT + 1), 100, 150);
        double share = run(polling, 50, 100, 150);
        assertTrue(share <= 0.25, "sleeping did better and is kept but for trials: " + share);
    }

    @Test
    void sleepingWinsATieAndPollingMustWinClearly() {
        ReadPolling polling = new ReadPolling(200, PERIOD, KEPT, now, () -> 0, 2);
        run(polling, 2 * (KEPT + 1), 100, 100);
        assertTrue(run(polling, 50, 100, 100) <= 0.25, "a tie goes to sleeping, which costs less CPU");
        assertTrue(run(polling, 50, 105, 100) <= 0.25, "polling 5% faster does not pay for its CPU");
        run(polling, 2 * (KEPT + 1), 150, 100);
        assertTrue(run(polling, 50, 150, 100) >= 0.75, "polling half again as fast is chosen back");
    }

    @Test
    void neverPollsWhenPollingIsOff() {
        ReadPolling polling = new ReadPolling(0, PERIOD, KEPT, now, () -> 0, 2);
        assertFalse(polling.polling());
        assertEquals(0.0, run(polling, 50, 1000, 1));
        assertEquals(0, polling.pollsPerWait());
    }

    @Test
    void cutsTheSpinToTwiceTheReadsHitsTook() {
        ReadPolling polling = new ReadPolling(200, PERIOD, KEPT, now, () -> 0, 2);
        for (int i = 0; i < 100; i++) {
            polling.spinHit(10);
        }
        int limit = polling.pollsPerWait();
        assertTrue(limit >= 10 && limit <= 21, "hits after 10 reads spin up to about 20: " + limit);
        for (int i = 0; i < 100; i++) {
            polling.spinHit(150);
        }
        assertEquals(200, polling.pollsPerWait(), "longer hits lengthen it, up to the most configured");
    }

    @Test
    void aSpinShorterThanTheShortestCutIsKept() {
        ReadPolling polling = new ReadPolling(4, PERIOD, KEPT, now, () -> 0, 2);
        polling.spinHit(1);
        assertEquals(4, polling.pollsPerWait(), "a configured spin of 4 reads, shorter than the shortest cut, stays 4");
    }

    @Test
    void pausesWhenSpinsMissThenTriesAgain() {
        ReadPolling polling = new ReadPolling(200, PERIOD, KEPT, now, () -> 0, 2);
        for (int i = 0; i < 10; i++) {
            polling.spinMissed();
        }
        assertEquals(200, polling.pollsPerWait(), "a few misses among hits do not stop spinning");
        int misses = 10;
        while (polling.pollsPerWait() > 0) {
            polling.spinMissed();
            assertTrue(++misses <= 20, "spinning stops once most spins miss");
        }
        for (int i = 1; i < ReadPolling.PAUSED_WAITS; i++) {
            polling.slept();
            assertEquals(0, polling.pollsPerWait(), "paused after " + i + " sleeps");
        }
        polling.slept();
        assertEquals(200, polling.pollsPerWait(), "tried again at full length after the pause");
    }

    @Test
    void neverSpinsWhileTheCpusAreOversubscribed() {
        int[] others = {3};
        ReadPolling polling = new ReadPolling(200, PERIOD, KEPT, now, () -> others[0], 2);
        for (int i = 0; i < 10; i++) {
            now += PERIOD;
            polling.handled(now);
        }
        assertTrue(polling.oversubscribed());
        assertEquals(0, polling.pollsPerWait(), "three others runnable on two CPUs: no spin");
        others[0] = 1;
        for (int i = 0; i < 10; i++) {
            now += PERIOD;
            polling.handled(now);
        }
        assertFalse(polling.oversubscribed(), "one other runnable thread on two CPUs leaves room");
    }

    @Test
    void readsTheRunnableCountOfLoadavg() {
        byte[] line = "0.52 0.58 0.59 13/467 12345\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        assertEquals(13, RunQueue.parseRunning(line, line.length));
        byte[] none = "garbage".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        assertEquals(-1, RunQueue.parseRunning(none, none.length));
        byte[] noNumber = "a /b".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        assertEquals(-1, RunQueue.parseRunning(noNumber, noNumber.length));
    }

    @Test
    void readsLoadavgAgainThroughOneDescriptorWithoutAllocatingAndClosesIt() {
        org.junit.jupiter.api.Assumptions.assumeTrue(new java.io.File("/proc/loadavg").canRead(), "Linux only");
        int before = Leaks.openFileDescriptors();
        var threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long id = Thread.currentThread().threadId();
        try (RunQueue runQueue = new RunQueue()) {
            assertFalse(runQueue.isOpen(), "opened at the first read, on the thread that reads");
            assertTrue(runQueue.othersRunnable() >= 0, "read from this machine's /proc/loadavg");
            assertTrue(runQueue.isOpen());
            assertEquals(before + 1, Leaks.openFileDescriptors(), "one descriptor, kept");
            for (int i = 0; i < 1000; i++) { // compiled before the measured reads
                runQueue.othersRunnable();
            }
            int unknown = 0;
            long allocated = threads.getThreadAllocatedBytes(id);
            for (int i = 0; i < 1000; i++) {
                unknown += runQueue.othersRunnable() < 0 ? 1 : 0;
            }
            allocated = threads.getThreadAllocatedBytes(id) - allocated;
            assertEquals(0, unknown, "every read again from offset 0 finds the count");
            assertTrue(allocated < 1000, "1000 reads allocated " + allocated + " B: one read must allocate nothing");
            assertEquals(before + 1, Leaks.openFileDescriptors(), "still the one descriptor after 2000 reads");
            runQueue.close();
            assertFalse(runQueue.isOpen());
            assertEquals(-1, runQueue.othersRunnable(), "closed: not known");
        }
        assertEquals(before, Leaks.openFileDescriptors(), "the descriptor is closed");
    }
}
