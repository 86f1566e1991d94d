package io.ostia.initiator.internal;

import io.ostia.api.IscsiException;
import io.ostia.api.SessionEvent;
import io.ostia.api.SessionEvent.MoveReason;
import io.ostia.api.SessionOptions;
import io.ostia.api.TransportException;
import io.ostia.api.spi.IscsiTransport;
import io.ostia.api.spi.StopMode;
import io.ostia.initiator.internal.IscsiSession.State;
import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * Recovery at ErrorRecoveryLevel 0 and transport moves, on the session's worker.
 *
 * <p>A <em>move</em> (switchTransport, a transport leaving or vanishing, failback, a target
 * asking for logout) is graceful: new commands wait (state MOVING), the commands in flight get
 * their answers (bounded by half the release timeout of the transport left, so that Logout and
 * the new login fit before it force-releases), Logout, then Login with the same ISID; what was
 * still in flight goes again on the new connection, not counted as a failed attempt. If the new
 * login fails, the move becomes a recovery.
 *
 * <p>A <em>recovery</em> follows a failed connection: what was in flight goes back to the head
 * of the queue, and the session logs in again with the same ISID until it works or the
 * replacement timeout passes. {@link #connectionFailed} runs on whichever thread saw the failure
 * (the receive thread, the sweeper, the worker): it only changes the state under the send lock
 * and hands the work to the worker. The worker runs one recovery or move at a time, so they
 * never overlap.
 */
final class Recovery {

    private static final System.Logger LOG = IscsiSession.LOG;

    private final IscsiSession session;
    private final Connector connector;
    private final CommandQueue queue;
    /**
     * True once the session logged in again: the target may greet the new I_T nexus with a
     * reset unit attention, which the session then answers by sending the command again.
     */
    volatile boolean reinstated;
    /** The running recovery's JFR event, begun when the connection failed; worker and failing thread. */
    private volatile FlightEvents.Recovery recoveryEvent;
    private volatile long failedAt;
    /**
     * When the running recovery may log in again (System.nanoTime): the failure plus Time2Wait
     * (RFC 7143 §13.15: the minimum wait before an implicit logout, which a login with the same
     * ISID is, after an unexpected connection termination).
     */
    private volatile long reloginAt;
    /** The connection whose failure the running recovery replaces; under the send lock. */
    private SessionConnection lost;
    /**
     * The connection a move is logging out, on the worker: the target closes it once it has
     * answered the Logout, and that close is the move's own doing, not a failure to recover from.
     */
    private volatile SessionConnection loggingOut;

    Recovery(IscsiSession session, Connector connector) {
        this.session = session;
        this.connector = connector;
        this.queue = session.queue;
    }

    /**
     * {@code conn} failed (any thread): the worker recovers the session, or, while it logs out,
     * what is left fails. A connection the session already left changes nothing.
     */
    void connectionFailed(SessionConnection conn, Throwable cause) {
        connectionFailed(conn, cause, null);
    }

    /**
     * As {@link #connectionFailed(SessionConnection, Throwable)}, with the Time2Wait the target
     * named when it dropped the connection (an async message's Parameter2), or null for the
     * negotiated DefaultTime2Wait.
     */
    void connectionFailed(SessionConnection conn, Throwable cause, Duration time2Wait) {
        if (conn == loggingOut) {
            // A move's Logout ends this connection: what waits on it (the Logout) ends too, and the move goes on.
            session.requests.failAll(new TransportException("connection to " + session.targetName + " closed during the"
                    + " logout before a move: " + cause.getMessage(), cause));
            return;
        }
        queue.sendLock.lock();
        try {
            // MOVING too: a connection that dies while the session drains it for a move is recovered now.
            State s = session.state;
            if (conn == lost && s == State.RECOVERING && time2Wait != null) {
                // The target's Async Message came after the send side saw the connection close (it drops
                // the connection right after): the recovery of that loss waits the Time2Wait it named.
                waitLonger(time2Wait);
                return;
            }
            if (conn != session.current || s != State.LOGGED_IN && s != State.LOGGING_OUT && s != State.MOVING) {
                return;
            }
            session.current = null;
            session.logout.settle();
            if (s == State.LOGGING_OUT) {
                TransportException error = new TransportException("connection to " + session.targetName
                        + " failed during logout: " + cause.getMessage(), cause);
                queue.failAll(error);
                session.requests.failAll(error);
                return;
            }
            session.state = State.RECOVERING;
            lost = conn;
        } finally {
            queue.sendLock.unlock();
        }
        LOG.log(System.Logger.Level.WARNING, () -> "session to " + session.targetName + " lost its " + conn + ": "
                + cause.getMessage() + "; recovering");
        Duration wait = time2Wait != null ? time2Wait : negotiatedTime2Wait();
        // ErrorRecoveryLevel 0: no task is ever reassigned, so Time2Retain bounds nothing here; what was in
        // flight goes again as new tasks in the reinstated session (a target keeps no task of the old one).
        LOG.log(System.Logger.Level.DEBUG, () -> "recovery of the session to " + session.targetName + " waits Time2Wait "
                + wait.toSeconds() + " s before logging in; in-flight commands go again as new tasks (ErrorRecoveryLevel 0)");
        recoveryStarted(cause, wait);
        session.runOnWorker(() -> recover(conn, cause, Set.of()));
    }

    /** The transport of {@code conn} is leaving: the worker moves the session, another transport first. */
    void transportLeaving(SessionConnection conn, IscsiTransport leaving) {
        LOG.log(System.Logger.Level.INFO, () -> "transport " + leaving.name() + " is leaving; moving the session to "
                + session.targetName + " elsewhere");
        session.runOnWorker(() -> moveQuietly(conn, null, leaving, MoveReason.TRANSPORT_LEAVING));
    }

    /** {@code gone} left the registry without announcing it: a session on it moves at once. Any thread. */
    void transportVanished(IscsiTransport gone) {
        session.runOnWorker(() -> {
            SessionConnection c = session.current;
            if (c != null && c.transport == gone) {
                moveQuietly(c, null, gone, MoveReason.TRANSPORT_VANISHED);
            }
        });
    }

    /** {@code arrived} appeared: a session running on a transport it prefers less moves to it. Any thread. */
    void transportArrived(IscsiTransport arrived) {
        session.runOnWorker(() -> {
            SessionConnection c = session.current;
            List<String> preference = session.options.transports();
            int rank = preference.indexOf(arrived.name());
            if (c != null && rank >= 0 && rank < preference.indexOf(c.transport.name())) {
                moveQuietly(c, arrived.name(), null, MoveReason.FAILBACK);
            }
        });
    }

    /** The target asked for logout or renegotiation: log out and in again, on the worker. */
    void targetRequested(SessionConnection conn) {
        session.runOnWorker(() -> moveQuietly(conn, null, null, MoveReason.TARGET_REQUESTED));
    }

    /** {@link Session#switchTransport}, on the worker. */
    Duration switchTo(String transport) throws IscsiException {
        SessionConnection c = session.current;
        if (c == null || session.state != State.LOGGED_IN) {
            if (!session.isOpen()) {
                throw session.closedError();
            }
            throw new TransportException("session to " + session.targetName + " could not move to " + transport
                    + ": it is " + session.state + " and has no connection to leave now");
        }
        return move(c, transport, null, MoveReason.REQUESTED);
    }

    private void moveQuietly(SessionConnection conn, String to, IscsiTransport leaving, MoveReason reason) {
        try {
            move(conn, to, leaving, reason);
        } catch (IscsiException e) {
            LOG.log(System.Logger.Level.WARNING, () -> "moving the session to " + session.targetName + " ("
                    + reason + ") failed: " + e.getMessage());
        }
    }

    /**
     * Moves the session from {@code conn} to a new connection over {@code to} (null: the first
     * transport of the preference that connects, other than {@code leaving}). On the worker.
     *
     * @return the I/O pause
     * @throws IscsiException the session was not on {@code conn}, or the new login failed (the
     *                        session then recovered over its preference, or failed)
     */
    private Duration move(SessionConnection conn, String to, IscsiTransport leaving, MoveReason reason)
            throws IscsiException {
        FlightEvents.Move event = new FlightEvents.Move();
        event.begin();
        long start = System.nanoTime();
        queue.sendLock.lock();
        try {
            if (conn != session.current || session.state != State.LOGGED_IN) {
                throw new TransportException("session to " + session.targetName + " is " + session.state
                        + " and no longer on " + conn + "; not moved");
            }
            session.state = State.MOVING;
        } finally {
            queue.sendLock.unlock();
        }
        String from = conn.transport.name();
        Duration drain = half(conn.transport.releaseTimeout());
        if (drain.compareTo(session.options.commandTimeout()) > 0) {
            drain = session.options.commandTimeout();
        }
        session.logout.awaitSettled(conn, false, start + drain.toNanos());
        if (conn != session.current) {
            // The connection failed while draining: recovery took over (it is queued on this worker).
            commit(event, from, to, reason, "connection failed during the drain");
            throw new TransportException("the connection of the session to " + session.targetName
                    + " failed while it drained for the move; the session recovers");
        }
        long drained = System.nanoTime();
        loggingOut = conn;
        Duration time2Wait = Duration.ZERO;
        try {
            session.logout.logoutConnection(conn);
        } catch (Logout.Refused e) {
            // The target could not close the session cleanly: a new (implicit) logout, which the login
            // with the same ISID is, waits the Time2Wait of its answer (RFC 7143 §11.15.4).
            time2Wait = e.time2Wait;
            LOG.log(System.Logger.Level.WARNING, () -> "logout before moving the session failed: " + e.getMessage());
        } catch (IscsiException e) {
            // Left all the same: what is still in flight goes again on the new connection.
            LOG.log(System.Logger.Level.WARNING, () -> "logout before moving the session failed: " + e.getMessage());
        }
        queue.sendLock.lock();
        try {
            session.current = null;
            loggingOut = null;
        } finally {
            queue.sendLock.unlock();
        }
        TransportException cause = new TransportException("the session moved (" + reason + ")");
        long loggedOut = System.nanoTime();
        release(conn, cause, false);
        long released = System.nanoTime();
        SessionOptions via = to == null ? session.options : session.options.toBuilder().transports(List.of(to)).build();
        // A leaving transport's name is skipped unless another service stands behind it (a bundle update overlaps).
        Set<String> excluded = leaving != null && session.transports.find(leaving.name()).filter(t -> t != leaving).isEmpty()
                ? Set.of(leaving.name()) : Set.of();
        IscsiException loginFailure;
        Duration owed = time2Wait; // what the recovery still has to wait if this login fails
        try {
            if (time2Wait.compareTo(session.options.replacementTimeout()) >= 0) {
                throw new TransportException("the target answered the logout with a Time2Wait of " + time2Wait.toSeconds()
                        + " s, not less than the replacement timeout of " + session.options.replacementTimeout().toSeconds() + " s");
            }
            sleepWhile(State.MOVING, System.nanoTime() + time2Wait.toNanos());
            owed = Duration.ZERO;
            // A failed move becomes a recovery, so its login gets no more than the replacement timeout.
            LoginResult result = connector.connect(via, session.isid(), excluded, session.options.replacementTimeout());
            if (!adopt(result, State.MOVING)) {
                commit(event, from, to, reason, "session closed during the move");
                throw session.closedError();
            }
            long resumed = System.nanoTime();
            Duration pause = Duration.ofNanos(resumed - start);
            String now = result.connection().transport.name();
            LOG.log(System.Logger.Level.DEBUG, () -> String.format("move of the session to %s: drain %.1f ms, logout %.1f ms,"
                    + " release %.1f ms, login %.1f ms", session.targetName, (drained - start) / 1e6,
                    (loggedOut - drained) / 1e6, (released - loggedOut) / 1e6, (resumed - released) / 1e6));
            commit(event, from, now, reason, "moved");
            LOG.log(System.Logger.Level.INFO, () -> "session to " + session.targetName + " moved from " + from + " to "
                    + now + " (" + reason + ") with a pause of " + pause.toMillis() + " ms");
            session.events.emit(new SessionEvent.Moved(session, from, now, pause, reason));
            return pause;
        } catch (IscsiException e) {
            loginFailure = e;
        }
        // The new login failed: the move becomes a recovery over the whole preference.
        commit(event, from, to, reason, "login failed: " + loginFailure.getMessage());
        queue.sendLock.lock();
        try {
            if (session.state != State.MOVING) {
                throw session.closedError();
            }
            session.state = State.RECOVERING;
        } finally {
            queue.sendLock.unlock();
        }
        recoveryStarted(loginFailure, owed);
        relogin(loginFailure, Set.of());
        throw new TransportException("session to " + session.targetName + " could not log in over "
                + (to == null ? "another transport" : to) + ": " + loginFailure.getMessage() + "; "
                + (session.isOpen() ? "it carries on over " + session.transport() : "it failed"), loginFailure);
    }

    private void commit(FlightEvents.Move event, String from, String to, MoveReason reason, String outcome) {
        if (event.end(session.targetName, session.isid(), outcome)) {
            event.from = from;
            event.to = to;
            event.reason = reason.name();
            event.commit();
        }
    }

    /** The DefaultTime2Wait of the session's last login (RFC 7143 §13.15: the larger of both sides' offers). */
    private Duration negotiatedTime2Wait() {
        LoginResult login = session.login;
        return login == null ? Duration.ZERO : Duration.ofSeconds(login.parameters().defaultTime2Wait());
    }

    private static Duration half(Duration d) {
        return d.dividedBy(2);
    }

    /** The running recovery logs in no sooner than {@code time2Wait} after the failure; under the send lock. */
    private void waitLonger(Duration time2Wait) {
        long at = failedAt + time2Wait.toNanos();
        if (at - reloginAt > 0) {
            reloginAt = at;
            FlightEvents.Recovery event = recoveryEvent;
            if (event != null) {
                event.time2Wait = time2Wait.toMillis();
            }
            LOG.log(System.Logger.Level.DEBUG, () -> "recovery of the session to " + session.targetName
                    + " waits the Time2Wait the target named, " + time2Wait.toSeconds() + " s");
        }
    }

    private void recoveryStarted(Throwable cause, Duration time2Wait) {
        FlightEvents.Recovery event = new FlightEvents.Recovery();
        event.begin();
        event.cause = cause.getMessage();
        event.time2Wait = time2Wait.toMillis();
        recoveryEvent = event;
        failedAt = System.nanoTime();
        reloginAt = failedAt + time2Wait.toNanos();
        session.events.emit(new SessionEvent.RecoveryStarted(session, cause));
    }

    /**
     * Leaves a connection: releases it, puts what was in flight back at the head of the queue
     * ({@code counted}: as an attempt that failed), fails the immediate requests waiting on it.
     */
    private void release(SessionConnection old, Throwable cause, boolean counted) {
        old.release(StopMode.RECOVER);
        queue.requeueInFlight(cause, counted);
        session.requests.failAll(new TransportException("connection to " + session.targetName + " was left: "
                + cause.getMessage(), cause));
    }

    /** Adopts a new connection if the session is still in {@code expected}; under the send lock. */
    private boolean adopt(LoginResult result, State expected) throws TransportException {
        queue.sendLock.lock();
        try {
            if (session.state != expected) {
                result.connection().release(StopMode.TERMINATE);
                return false;
            }
            session.adopt(result);
            reinstated = true;
            session.state = State.LOGGED_IN;
        } finally {
            queue.sendLock.unlock();
        }
        queue.pump();
        return true;
    }

    /** ERL0 recovery of a failed connection, on the worker. */
    private void recover(SessionConnection old, Throwable cause, Set<String> excluded) {
        release(old, cause, true);
        relogin(cause, excluded);
    }

    /**
     * Logs in again with the same ISID until it works or the replacement timeout passes.
     *
     * <p>{@code excluded} (a leaving transport) is skipped on the first attempt only, so that the
     * session moves at once to another transport if there is one. Later attempts try every
     * transport of the preference again: a transport that is still leaving refuses the connect,
     * and one that came back (its bundle started again) is a name with a new service behind it.
     */
    private void relogin(Throwable cause, Set<String> excluded) {
        long deadline = System.nanoTime() + session.options.replacementTimeout().toNanos();
        long waitUntil;
        do { // again if the target named a longer Time2Wait meanwhile (waitLonger)
            waitUntil = reloginAt;
            if (waitUntil - deadline >= 0 && session.state == State.RECOVERING) {
                Duration wait = Duration.ofNanos(waitUntil - failedAt);
                TransportException error = new TransportException("session to " + session.targetName + " lost its connection ("
                        + cause.getMessage() + ") and may not log in again for Time2Wait " + wait.toSeconds() + " s, not less than"
                        + " the replacement timeout of " + session.options.replacementTimeout().toSeconds() + " s", cause);
                endRecovery(null, "failed: " + error.getMessage());
                session.finish(State.FAILED, error);
                return;
            }
            sleepWhile(State.RECOVERING, waitUntil);
        } while (reloginAt != waitUntil && session.state == State.RECOVERING);
        IscsiException last = null;
        Duration backoff = Duration.ofMillis(100);
        Set<String> skip = excluded;
        while (session.state == State.RECOVERING) {
            try {
                // The replacement timeout bounds the whole recovery, a login in progress included.
                LoginResult result = connector.connect(session.options, session.isid(), skip,
                        Duration.ofNanos(Math.max(1_000_000, deadline - System.nanoTime())));
                if (!adopt(result, State.RECOVERING)) {
                    return;
                }
                Duration downtime = Duration.ofNanos(System.nanoTime() - failedAt);
                String transport = result.connection().transport.name();
                endRecovery(transport, "recovered");
                LOG.log(System.Logger.Level.INFO, () -> "session to " + session.targetName + " recovered on "
                        + result.connection() + " after " + downtime.toMillis() + " ms");
                session.events.emit(new SessionEvent.Recovered(session, transport, downtime));
                return;
            } catch (IscsiException e) {
                last = e;
            }
            skip = Set.of();
            long remaining = deadline - System.nanoTime();
            if (remaining <= 0) {
                break;
            }
            sleepQuietly(Duration.ofNanos(Math.min(remaining, backoff.toNanos())));
            backoff = backoff.multipliedBy(2).compareTo(Duration.ofSeconds(2)) > 0 ? Duration.ofSeconds(2) : backoff.multipliedBy(2);
        }
        if (session.state == State.RECOVERING) {
            IscsiException last0 = last;
            TransportException error = new TransportException("session to " + session.targetName + " lost its connection ("
                    + cause.getMessage() + ") and no new one came up within the replacement timeout of "
                    + session.options.replacementTimeout().toSeconds() + " s" + (last0 == null ? "" : ": " + last0.getMessage()), cause);
            endRecovery(null, "failed: " + error.getMessage());
            session.finish(State.FAILED, error);
        }
    }

    private void endRecovery(String transport, String outcome) {
        FlightEvents.Recovery event = recoveryEvent;
        recoveryEvent = null;
        if (event != null) {
            if (event.end(session.targetName, session.isid(), outcome)) {
                event.transport = transport;
                event.commit();
            }
        }
    }

    /** Sleeps until {@code until} (System.nanoTime) in slices, while the session stays in {@code state}. */
    private void sleepWhile(State state, long until) {
        long left;
        while (session.state == state && (left = until - System.nanoTime()) > 0) {
            sleepQuietly(Duration.ofNanos(Math.min(left, 100_000_000L)));
            if (Thread.currentThread().isInterrupted()) {
                return;
            }
        }
    }

    private static void sleepQuietly(Duration d) {
        try {
            Thread.sleep(d);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
