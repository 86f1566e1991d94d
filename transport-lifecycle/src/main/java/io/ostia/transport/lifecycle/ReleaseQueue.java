package io.ostia.transport.lifecycle;

import java.lang.System.Logger.Level;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * A transport's release queue (Linux iSER's release workqueue): work that frees a connection's
 * resources once what it waits for has happened. iSER's {@code TransportEndpoint.disconnect}
 * on a bound connection queues work that waits for the connection's stop, then for the flush
 * of its posted work requests, then frees; a transport whose releases are synchronous (TCP)
 * never queues.
 *
 * <p>Work runs in the order queued on one platform daemon thread, {@code ostia-<name>-release},
 * started when work arrives and ended when the queue is empty, so an idle transport holds no
 * thread. Each piece of work must bound its own waits. Leaving drains the queue: the
 * transport's drain step waits until no connection is bound <em>and</em> this queue is idle.
 */
public final class ReleaseQueue {

    private static final System.Logger LOG = System.getLogger(ReleaseQueue.class.getName());

    private final String threadName;
    private final Runnable onIdle;
    private final ArrayDeque<Release> pending = new ArrayDeque<>();
    /** Guarded by {@link #pending}. */
    private Release running;
    /** Guarded by {@link #pending}; the last worker started, joined by {@link #awaitIdle}. */
    private Thread worker;
    /** Guarded by {@link #pending}: no worker, or it found the queue empty and is ending. */
    private boolean workerDone = true;

    /**
     * @param onIdle called (without a lock) after each piece of work, so a drain waiting for an
     *               idle queue wakes up
     */
    ReleaseQueue(String threadName, Runnable onIdle) {
        this.threadName = threadName;
        this.onIdle = onIdle;
    }

    /**
     * Queues {@code work}, described by {@code what} in logs (for example "release of
     * 192.0.2.1:3260"). Never blocks.
     */
    public void submit(String what, Runnable work) {
        Release release = new Release(Objects.requireNonNull(what, "what"), Objects.requireNonNull(work, "work"));
        synchronized (pending) {
            pending.addLast(release);
            if (workerDone) {
                startWorker();
            }
        }
    }

    private void startWorker() {
        workerDone = false;
        worker = Thread.ofPlatform().daemon(true).name(threadName).start(this::work);
    }

    private void work() {
        while (true) {
            Release next;
            synchronized (pending) {
                next = pending.pollFirst();
                running = next;
                if (next == null) {
                    workerDone = true;
                    pending.notifyAll();
                }
            }
            if (next == null) {
                onIdle.run();
                return;
            }
            try {
                next.work.run();
            } catch (RuntimeException | Error e) {
                LOG.log(Level.ERROR, "the " + next.what + " failed; the queue goes on", e);
            } finally {
                synchronized (pending) {
                    running = null;
                }
                onIdle.run();
            }
        }
    }

    /** No work queued or running. */
    public boolean isIdle() {
        synchronized (pending) {
            return running == null && pending.isEmpty();
        }
    }

    /**
     * Waits until the queue is idle and its thread has ended, at most until {@code deadline}
     * ({@link System#nanoTime()}); returns what was still queued or running then.
     */
    List<String> awaitIdle(long deadline) throws InterruptedException {
        Thread last;
        synchronized (pending) {
            while (!workerDone) {
                long remaining = deadline - System.nanoTime();
                if (remaining <= 0) {
                    return unfinished();
                }
                TimeUnit.NANOSECONDS.timedWait(pending, remaining);
            }
            last = worker;
        }
        if (last != null) {
            last.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
        }
        return List.of();
    }

    private List<String> unfinished() {
        List<String> names = new ArrayList<>();
        if (running != null) {
            names.add(running.what + " (running)");
        }
        pending.forEach(release -> names.add(release.what));
        return names;
    }

    private record Release(String what, Runnable work) {
    }
}
