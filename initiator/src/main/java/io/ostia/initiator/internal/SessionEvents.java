package io.ostia.initiator.internal;

import io.ostia.api.SessionEvent;
import io.ostia.api.SessionListener;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;

/**
 * The session's listeners and the delivery of its events: on a thread of their own (one
 * virtual thread per session, started when there is something to deliver), in the order they
 * were emitted, each after the change it reports. Not on the worker: a recovery keeps the
 * worker for up to the replacement timeout, and its events must not wait for it; and a listener
 * may call {@link io.ostia.api.Session#switchTransport}, which waits for the worker.
 */
final class SessionEvents {

    private static final System.Logger LOG = IscsiSession.LOG;

    private final IscsiSession session;
    private final CopyOnWriteArraySet<SessionListener> listeners = new CopyOnWriteArraySet<>();
    private final ExecutorService delivery;
    private volatile Thread deliveryThread;

    SessionEvents(IscsiSession session, long isid) {
        this.session = session;
        ThreadFactory virtual = Thread.ofVirtual().name("ostia-session-events-" + Long.toHexString(isid)).factory();
        this.delivery = Executors.newSingleThreadExecutor(r -> {
            Thread t = virtual.newThread(r);
            deliveryThread = t;
            return t;
        });
    }

    /** Adds a listener; one added to an open session hears first where it is logged in now. */
    void add(SessionListener listener) {
        java.util.Objects.requireNonNull(listener, "listener");
        if (listeners.add(listener) && session.isOpen()) {
            run(() -> {
                SessionConnection c = session.current;
                if (c != null && listeners.contains(listener)) {
                    deliver(listener, new SessionEvent.LoggedIn(session, c.transport.name()));
                }
            });
        }
    }

    void remove(SessionListener listener) {
        listeners.remove(listener);
    }

    /** Delivers {@code event} to every listener, on the delivery thread; any thread. */
    void emit(SessionEvent event) {
        if (!listeners.isEmpty()) {
            run(() -> listeners.forEach(l -> deliver(l, event)));
        }
    }

    /** After the last event: the delivery thread ends once it has delivered what it was given. */
    void shutdown() {
        delivery.shutdown();
    }

    boolean isDeliveryThread() {
        return Thread.currentThread() == deliveryThread;
    }

    private void run(Runnable task) {
        try {
            delivery.execute(task);
        } catch (RejectedExecutionException e) {
            LOG.log(System.Logger.Level.DEBUG, () -> "session to " + session.targetName + " is closed; event dropped");
        }
    }

    private static void deliver(SessionListener listener, SessionEvent event) {
        try {
            listener.sessionEvent(event);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "session listener " + listener + " failed on " + event, e);
        }
    }
}
