package io.ostia.rdma;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link CompletionQueue#pollSpinning}'s contract, on a queue that counts its polls. */
class PollSpinningTest {
    /** Empty until its {@code firstFull}-th poll (1-based; 0: never), then one completion per poll. */
    private static final class CountingQueue implements CompletionQueue {
        final long firstFull;
        long polls;

        CountingQueue(long firstFull) {
            this.firstFull = firstFull;
        }

        @Override
        public int poll(WorkCompletion[] into) {
            polls++;
            if (firstFull == 0 || polls < firstFull) {
                return 0;
            }
            into[0].set(polls, WorkCompletionStatus.SUCCESS, WorkCompletionOpcode.SEND, 0, false, 0, 0, 0);
            return 1;
        }

        @Override
        public RdmaDevice device() {
            throw new UnsupportedOperationException();
        }

        @Override
        public int capacity() {
            return 1;
        }

        @Override
        public void requestNotification(boolean solicitedOnly) {
            throw new UnsupportedOperationException();
        }

        @Override
        public boolean awaitNotification(Duration timeout) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void close() {
        }

        @Override
        public boolean isClosed() {
            return false;
        }
    }

    private static WorkCompletion[] holders() {
        return new WorkCompletion[] {new WorkCompletion()};
    }

    @Test
    void aZeroBudgetPollsExactlyOnce() {
        CountingQueue empty = new CountingQueue(0);
        assertEquals(0, empty.pollSpinning(holders(), 0));
        assertEquals(1, empty.polls);
    }

    @Test
    void aCompletionAlreadyThereIsReturnedByTheFirstPoll() {
        CountingQueue full = new CountingQueue(1);
        WorkCompletion[] into = holders();
        assertEquals(1, full.pollSpinning(into, CompletionQueue.IDLE_SPIN_NANOS));
        assertEquals(1, full.polls);
        assertEquals(1, into[0].wrId());
    }

    @Test
    void aCompletionArrivingBetweenClockReadsIsTakenAtThePollThatSeesIt() {
        // Past one round of polls between clock reads: the spin goes on through a clock read and
        // stops at the very poll that finds the completion, not at the next clock read.
        long arrivesAt = CompletionQueue.SPIN_POLLS_PER_CLOCK_READ + 3;
        CountingQueue late = new CountingQueue(arrivesAt);
        WorkCompletion[] into = holders();
        assertEquals(1, late.pollSpinning(into, Duration.ofMinutes(1).toNanos()));
        assertEquals(arrivesAt, late.polls);
        assertEquals(arrivesAt, into[0].wrId());
    }

    @Test
    void anIdleQueueEndsTheSpinWhenTheBudgetRunsOut() {
        CountingQueue empty = new CountingQueue(0);
        assertEquals(0, empty.pollSpinning(holders(), 1));
        // The first poll, then at least one round before the clock is read again.
        assertTrue(empty.polls >= 1 + CompletionQueue.SPIN_POLLS_PER_CLOCK_READ, "polls: " + empty.polls);
        assertEquals(0, (empty.polls - 1) % CompletionQueue.SPIN_POLLS_PER_CLOCK_READ,
                "the spin stops only at a clock read, after whole rounds of polls: " + empty.polls);
    }
}
