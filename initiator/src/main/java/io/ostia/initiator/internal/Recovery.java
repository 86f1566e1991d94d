package io.ostia.initiator.internal;

import io.ostia.api.IscsiException;
import io.ostia.api.TransportException;
import io.ostia.api.spi.IscsiTransport;
import io.ostia.api.spi.StopMode;
import io.ostia.initiator.internal.IscsiSession.State;
import java.time.Duration;
import java.util.Set;

/**
 * Recovery at ErrorRecoveryLevel 0 and transport moves, on the session's worker: a failed
 * connection is released, what was in flight goes back to the head of the queue, and the
 * session logs in again with the same ISID until it works or the replacement timeout passes;
 * a move (a transport leaving, a target asking for logout or renegotiation) first drains and
 * logs out the connection it leaves.
 *
 * <p>{@link #connectionFailed} runs on whichever thread saw the failure (the receive thread,
 * the sweeper, the worker): it only changes the state under the send lock and hands the work to
 * the worker. The worker runs one recovery or move at a time, so they never overlap.
 */
final class Recovery {

    private static final System.Logger LOG = IscsiSession.LOG;

    private final IscsiSession session;
    private final Connector connector;
    private final CommandQueue queue;

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
        queue.sendLock.lock();
        try {
            // MOVING too: a connection that dies while the session drains it for a move is recovered now.
            State s = session.state;
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
        } finally {
            queue.sendLock.unlock();
        }
        LOG.log(System.Logger.Level.WARNING, () -> "session to " + session.targetName + " lost its " + conn + ": "
                + cause.getMessage() + "; recovering");
        session.runOnWorker(() -> recover(conn, cause, Set.of()));
    }

    /** The transport of {@code conn} is leaving: the worker moves the session, another transport first. */
    void transportLeaving(SessionConnection conn, IscsiTransport leaving) {
        LOG.log(System.Logger.Level.INFO, () -> "transport " + leaving.name() + " is leaving; moving the session to "
                + session.targetName + " elsewhere");
        session.runOnWorker(() -> reconnect(conn, "transport " + leaving.name() + " is leaving", Set.of(leaving.name()),
                false));
    }

    /**
     * Moves the session to a new connection gracefully: new commands wait, in-flight ones finish
     * (bounded by the command timeout), logout, then login with the same ISID.
     */
    void reconnect(SessionConnection conn, String why, Set<String> excluded, boolean sameTransportOk) {
        queue.sendLock.lock();
        try {
            if (conn != session.current || session.state != State.LOGGED_IN) {
                return;
            }
            session.state = State.MOVING;
        } finally {
            queue.sendLock.unlock();
        }
        session.logout.awaitSettled(conn, false, System.nanoTime() + session.options.commandTimeout().toNanos());
        if (conn != session.current) {
            return; // the connection failed while draining: recovery took over
        }
        try {
            session.logout.logoutConnection(conn);
        } catch (IscsiException e) {
            LOG.log(System.Logger.Level.WARNING, () -> "logout before moving the session failed: " + e.getMessage());
        }
        queue.sendLock.lock();
        try {
            session.current = null;
            session.state = State.RECOVERING;
        } finally {
            queue.sendLock.unlock();
        }
        recover(conn, new TransportException(why), excluded);
    }

    /**
     * ERL0 recovery: release the old connection, requeue what was in flight, log in again with
     * the same ISID until it works or the replacement timeout passes.
     *
     * <p>{@code excluded} (a leaving transport) is skipped on the first attempt only, so that the
     * session moves at once to another transport if there is one. Later attempts try every
     * transport of the preference again: a transport that is still leaving refuses the connect,
     * and one that came back (its bundle started again) is a name with a new service behind it.
     */
    private void recover(SessionConnection old, Throwable cause, Set<String> excluded) {
        old.release(StopMode.RECOVER);
        queue.requeueInFlight(cause);
        session.requests.failAll(new TransportException("connection to " + session.targetName + " was lost: " + cause.getMessage(), cause));
        long deadline = System.nanoTime() + session.options.replacementTimeout().toNanos();
        IscsiException last = null;
        Duration backoff = Duration.ofMillis(100);
        Set<String> skip = excluded;
        while (session.state == State.RECOVERING) {
            try {
                // The replacement timeout bounds the whole recovery, a login in progress included.
                LoginResult result = connector.connect(session.options, session.isid(), skip,
                        Duration.ofNanos(Math.max(1_000_000, deadline - System.nanoTime())));
                queue.sendLock.lock();
                try {
                    if (session.state != State.RECOVERING) {
                        result.connection().release(StopMode.TERMINATE);
                        return;
                    }
                    session.adopt(result);
                    session.state = State.LOGGED_IN;
                } finally {
                    queue.sendLock.unlock();
                }
                LOG.log(System.Logger.Level.INFO, () -> "session to " + session.targetName + " recovered on "
                        + result.connection());
                queue.pump();
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
            session.finish(State.FAILED, error);
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
