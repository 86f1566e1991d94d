package io.ostia.rdma;

import java.time.Duration;

/**
 * A completion queue ({@code struct ibv_cq}) with its completion notification channel.
 *
 * <p>Usage: {@link #requestNotification}, then {@link #poll} until empty (a completion may have
 * arrived before arming), then {@link #awaitNotification}. Closing it while a queue pair uses it
 * fails.
 */
public interface CompletionQueue extends RdmaResource {
    /**
     * How long a completion thread spins on an idle queue ({@link #pollSpinning}) before it arms
     * and sleeps: a few work requests' time, so that a peer producing steadily never needs waking.
     */
    long IDLE_SPIN_NANOS = 20_000;

    RdmaDevice device();

    int capacity();

    /**
     * Moves up to {@code into.length} completions into the given holders, oldest first.
     *
     * @return the number filled, 0 if the queue is empty
     * @throws RdmaException if the queue overran (more completions than its capacity)
     */
    int poll(WorkCompletion[] into);

    /**
     * How many empty polls {@link #pollSpinning} makes between two reads of the clock: an empty
     * poll costs a few volatile reads, the clock (a vDSO call) about as much as the poll and its
     * spin hint together, so reading it every poll spent a third of the spin on it. 32 polls
     * overshoot the spin's bound by a few microseconds at most. The system property
     * {@code ostia.rdma.spinPollsPerClockRead} changes it for measuring (1: read every poll).
     */
    int SPIN_POLLS_PER_CLOCK_READ = Math.max(1, Integer.getInteger("ostia.rdma.spinPollsPerClockRead", 32));

    /**
     * Polls until a completion arrives or {@code nanos} pass, spinning. A consumer that calls it
     * before arming sleeps (and costs its producer a wake-up) only when the queue stayed idle that
     * long, not each time the peer is a moment behind, as a busy HCA's poller does. The clock is
     * read only once the first poll found nothing, then every {@link #SPIN_POLLS_PER_CLOCK_READ}
     * polls; {@code nanos <= 0} polls once.
     *
     * @return the number filled, 0 if none came within {@code nanos}
     */
    default int pollSpinning(WorkCompletion[] into, long nanos) {
        int n = poll(into);
        if (n != 0 || nanos <= 0) {
            return n;
        }
        long deadline = System.nanoTime() + nanos;
        do {
            for (int i = 0; i < SPIN_POLLS_PER_CLOCK_READ; i++) {
                Thread.onSpinWait();
                if ((n = poll(into)) != 0) {
                    return n;
                }
            }
        } while (deadline - System.nanoTime() > 0);
        return 0;
    }

    /**
     * Arms the queue: the next completion (only solicited receives and errors if
     * {@code solicitedOnly}) raises one notification.
     */
    void requestNotification(boolean solicitedOnly);

    /**
     * Waits for a notification raised after {@link #requestNotification}, and consumes it.
     *
     * @return true if one arrived, false if the timeout passed first
     * @throws IllegalStateException if the queue is closed, also when closed during the wait
     */
    boolean awaitNotification(Duration timeout) throws InterruptedException;
}
