package io.ostia.initiator.internal;

import io.ostia.api.SessionEvent;
import io.ostia.api.SessionListener;
import java.util.concurrent.CopyOnWriteArraySet;

/**
 * The session's listeners and the delivery of its events: on the session's worker, in the
 * order they were emitted, each after the change it reports (the worker runs the moves and
 * recoveries that emit them, and takes the delivery after the step that emitted it).
 */
final class SessionEvents {

    private static final System.Logger LOG = IscsiSession.LOG;

    private final IscsiSession session;
    private final CopyOnWriteArraySet<SessionListener> listeners = new CopyOnWriteArraySet<>();

    SessionEvents(IscsiSession session) {
        this.session = session;
    }

    /** Adds a listener; one added to an open session hears first where it is logged in now. */
    void add(SessionListener listener) {
        java.util.Objects.requireNonNull(listener, "listener");
        if (listeners.add(listener) && session.isOpen()) {
            session.runOnWorker(() -> {
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

    /** Delivers {@code event} to every listener on the worker; any thread. */
    void emit(SessionEvent event) {
        if (!listeners.isEmpty()) {
            session.runOnWorker(() -> listeners.forEach(l -> deliver(l, event)));
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
