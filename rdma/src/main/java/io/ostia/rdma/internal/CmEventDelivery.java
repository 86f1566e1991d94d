package io.ostia.rdma.internal;

import io.ostia.rdma.CmEvent;
import io.ostia.rdma.CmEventHandler;

import java.time.Duration;

/** What both providers' event threads share: calling the handler and stopping the thread. */
public final class CmEventDelivery {
    private static final System.Logger LOG = System.getLogger(CmEventDelivery.class.getName());

    /** How long closing a channel waits for its thread to stop. */
    public static final Duration THREAD_STOP_TIMEOUT = Duration.ofSeconds(5);

    private CmEventDelivery() {
    }

    /** Calls the handler; an exception it throws is logged with the event, and delivery goes on. */
    public static void deliver(CmEventHandler handler, CmEvent event) {
        try {
            handler.onEvent(event);
        } catch (RuntimeException | Error e) {
            LOG.log(System.Logger.Level.ERROR, "CM event handler failed on " + event, e);
        }
    }

    /**
     * Waits (bounded) for an event thread to end after it was told to stop.
     *
     * @throws IllegalStateException if called from that thread (the handler closing its own
     *     channel), or if the thread did not stop in time
     */
    public static void awaitStop(Thread thread) {
        if (Thread.currentThread() == thread) {
            throw new IllegalStateException("an event channel cannot be closed from its own handler thread " + thread.getName());
        }
        boolean interrupted = false;
        long deadline = System.nanoTime() + THREAD_STOP_TIMEOUT.toNanos();
        while (thread.isAlive()) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                break;
            }
            try {
                thread.join(Duration.ofNanos(left));
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) {
            throw new IllegalStateException("event thread " + thread.getName() + " did not stop within "
                    + THREAD_STOP_TIMEOUT + "; its handler is blocked");
        }
    }
}
