package io.ostia.initiator;

import io.ostia.api.SessionEvent;
import io.ostia.api.SessionListener;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A session listener that keeps the events it hears, so that a demo, benchmark or test can wait,
 * bounded, for the next one of a kind: {@code session.addListener(events)}, then
 * {@code events.next(SessionEvent.Moved.class, timeout)}.
 */
public final class SessionEventQueue implements SessionListener {

    private final BlockingQueue<SessionEvent> queue = new LinkedBlockingQueue<>();

    @Override
    public void sessionEvent(SessionEvent event) {
        queue.add(event);
    }

    /** The events heard and not yet taken, taken now: what happened since the last call. */
    public List<SessionEvent> drain() {
        List<SessionEvent> all = new ArrayList<>();
        queue.drainTo(all);
        return all;
    }

    /** The next event of {@code type}, the events before it dropped. */
    public <E extends SessionEvent> E next(Class<E> type, Duration timeout) throws InterruptedException {
        return type.cast(next(type.getSimpleName(), type::isInstance, timeout));
    }

    /** The next event of {@code type} that {@code wanted} accepts, the events before it dropped. */
    public <E extends SessionEvent> E next(Class<E> type, Predicate<? super E> wanted, Duration timeout)
            throws InterruptedException {
        return type.cast(next(type.getSimpleName(), e -> type.isInstance(e) && wanted.test(type.cast(e)), timeout));
    }

    /**
     * @throws AssertionError when none comes within {@code timeout}, naming what came instead
     *                        (a test's failure, a demo's clear error)
     */
    private SessionEvent next(String what, Predicate<SessionEvent> wanted, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<SessionEvent> skipped = new ArrayList<>();
        while (true) {
            SessionEvent e = queue.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (e == null) {
                throw new AssertionError("no " + what + " event within " + timeout + "; saw " + skipped);
            }
            if (wanted.test(e)) {
                return e;
            }
            skipped.add(e);
        }
    }
}
