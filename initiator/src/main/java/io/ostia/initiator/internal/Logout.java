package io.ostia.initiator.internal;

import io.ostia.api.IscsiException;
import io.ostia.api.IscsiTimeoutException;
import io.ostia.api.pdu.LogoutRequest;
import io.ostia.api.pdu.LogoutResponse;
import io.ostia.api.pdu.Pdu;
import io.ostia.api.spi.StopMode;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Leaving a connection in order, on the session's worker: drain (wait, bounded by the command
 * timeout, until the commands in flight have their answers), then Logout. {@link #logout} ends
 * the session this way when it closes; a transport move drains and logs out the connection it
 * leaves the same way ({@link Recovery#reconnect}).
 *
 * <p>The drain sleeps on its own monitor. Whatever takes a sent command out of the table, or
 * changes the connection, calls {@link #settle}, which costs one volatile read unless a drain
 * waits; the monitor is taken alone or inside the send lock, never the other way round.
 */
final class Logout {

    /** The longest a drain sleeps without looking again (see {@link #awaitSettled}). */
    private static final Duration SETTLE_SLICE = Duration.ofMillis(50);

    private final IscsiSession session;
    private final CommandQueue queue;
    /** Notified when a sent command leaves the table or the connection changes, while a drain waits. */
    private final Object settled = new Object();
    private volatile boolean draining;

    Logout(IscsiSession session) {
        this.session = session;
        this.queue = session.queue;
    }

    /**
     * Closes the session's connection, on the worker: lets outstanding commands finish (bounded
     * by the command timeout), then Logout and release. Fails when commands were left.
     */
    Void logout() throws IscsiException {
        long deadline = System.nanoTime() + session.options.commandTimeout().toNanos();
        // Recovery may replace the connection meanwhile: drain whichever is current.
        for (SessionConnection c; (c = session.current) != null && !queue.settled(true)
                && System.nanoTime() < deadline; ) {
            awaitSettled(c, true, deadline);
        }
        SessionConnection conn = session.current;
        if (conn == null) {
            return null; // recovery never came back: nothing to log out of
        }
        int left = queue.tasks.size() + queue.waiting();
        try {
            logoutConnection(conn);
        } finally {
            session.current = null;
            conn.release(StopMode.TERMINATE);
        }
        if (left > 0) {
            throw new IscsiTimeoutException(left + " commands to " + session.targetName + " did not finish within "
                    + session.options.commandTimeout().toSeconds() + " s before logout");
        }
        return null;
    }

    void logoutConnection(SessionConnection conn) throws IscsiException {
        int itt = queue.nextTag();
        CompletableFuture<Pdu> answer = new CompletableFuture<>();
        session.requests.send(conn, itt, answer,
                new LogoutRequest(true, LogoutRequest.Reason.CLOSE_SESSION, itt, 0, queue.window.peek(), conn.expStatSN()));
        LogoutResponse response = (LogoutResponse) session.requests.await(answer, session.options.taskManagementTimeout(), "Logout");
        if (response.response() != LogoutResponse.Response.CLOSED_SUCCESSFULLY) {
            throw new Refused("logout of " + session.targetName + " answered " + response.response() + " (Time2Wait "
                    + response.time2Wait() + " s)", Duration.ofSeconds(response.time2Wait()));
        }
        // Closed: at ErrorRecoveryLevel 0 the answer's Time2Wait and Time2Retain are to be ignored (RFC 7143 §11.15.4-5).
    }

    /** The target did not close the session; a new logout or login with the same ISID waits {@code time2Wait}. */
    static final class Refused extends IscsiException {
        final transient Duration time2Wait;

        Refused(String message, Duration time2Wait) {
            super(message);
            this.time2Wait = time2Wait;
        }
    }

    /** Wakes a drain, if one waits, after a sent command left the table or the connection changed. */
    void settle() {
        if (draining) {
            synchronized (settled) {
                settled.notifyAll();
            }
        }
    }

    /**
     * Waits, on the worker, until no sent command is left on {@code conn} (with {@code
     * withWaiting}, none waits either: it sends what the window allows as it goes), until the
     * deadline, or until {@code conn} is no longer current. Completions wake it; the slice
     * bounds a wake-up missed by a path that does not {@link #settle}.
     */
    void awaitSettled(SessionConnection conn, boolean withWaiting, long deadline) {
        draining = true;
        try {
            while (conn == session.current && !queue.settled(withWaiting)) {
                if (withWaiting) {
                    queue.pump();
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return;
                }
                synchronized (settled) {
                    if (conn == session.current && !queue.settled(withWaiting)) {
                        settled.wait(Math.min(SETTLE_SLICE.toMillis(), TimeUnit.NANOSECONDS.toMillis(left) + 1));
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            draining = false;
        }
    }
}
