package io.ostia.api;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Hears what happens to a {@link Session}: logins, moves between transports with their pause,
 * recoveries, logout. Register with {@link Session#addListener}.
 *
 * <p>Events of one session come one at a time, in the order they happened, after the change
 * they report, on a thread the session keeps for them (not one that carries its I/O). A
 * listener may call the session, {@link Session#switchTransport} included; while it runs, the
 * session's later events wait. An exception a listener throws is logged and does not reach the
 * session or other listeners.
 */
@ConsumerType
@FunctionalInterface
public interface SessionListener {

    void sessionEvent(SessionEvent event);
}
