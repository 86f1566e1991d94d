package io.ostia.rdma.internal.loopback;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The debug trace of a loopback completion queue's consumer: what it counts and how it says it. */
class CompletionTraceTest {
    @Test
    void batchesFallInPowerOfTwoBucketsAndEmptyPollsAreCountedApart() {
        LoopbackCompletionQueue.Trace trace = new LoopbackCompletionQueue.Trace();
        for (int n : new int[] {0, 0, 0, 1, 2, 3, 4, 5, 8, 9, 16, 17, 64}) {
            trace.polled(n);
        }
        assertArrayEquals(new long[] {1, 1, 2, 2, 2, 2}, trace.batches);
        assertEquals(3, trace.emptyPolls);
        assertEquals(1 + 2 + 3 + 4 + 5 + 8 + 9 + 16 + 17 + 64, trace.completions);
    }

    @Test
    void theDescriptionNamesTheConsumerTheMeanBatchAndTheSleeps() {
        LoopbackCompletionQueue.Trace trace = new LoopbackCompletionQueue.Trace();
        trace.polled(1);
        trace.polled(3);
        trace.polled(0);
        trace.sleeps = 7;
        trace.notifications = 5;
        String text = trace.describe();
        assertTrue(text.startsWith("polled by " + Thread.currentThread().getName() + ": 4 completions in 2 non-empty polls (mean 2.00"), text);
        assertTrue(text.contains("1: 1, 2: 0, 3-4: 1,"), text);
        assertTrue(text.contains("1 empty polls, 7 sleeps, 5 notifications raised"), text);
    }
}
