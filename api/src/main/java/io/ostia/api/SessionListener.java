package io.ostia.api;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Hears what happens to a {@link Session}: logins, moves between transports with their pause,
 * recoveries, logout. Register with {@link Session#addListener}.
 *
 * <p>Events of one session come one at a time, in the order they happened, on the session's
 * worker thread, after the change they report. A listener must return quickly and must not
 * block on the session (it would wait for the thread that delivers to it): hand anything slow,
 * such as {@link Session#switchTransport}, to another thread. An exception a listener throws is
 * logged and does not reach the session or other listeners.
 */
@ConsumerType
@FunctionalInterface
public interface SessionListener {

    void sessionEvent(SessionEvent event);
}
