package io.ostia.initiator.internal;

import io.ostia.api.IscsiException;
import io.ostia.api.IscsiTimeoutException;
import io.ostia.api.TransportException;
import io.ostia.api.pdu.NopOut;
import io.ostia.api.pdu.Pdu;
import io.ostia.api.pdu.TaskManagementRequest;
import io.ostia.api.pdu.TaskManagementResponse;
import io.ostia.api.scsi.Luns;
import io.ostia.initiator.internal.IscsiSession.State;
import java.util.concurrent.CompletableFuture;

/**
 * The session's clocks and the task management they lead to. A sweeper on the initiator's timer
 * looks every quarter second: a command past its deadline is aborted on the worker (ABORT TASK,
 * then LOGICAL UNIT RESET, then a connection failure); a CmdSN window kept shut with commands
 * waiting, and a keepalive NOP-Out left unanswered, fail the connection; an idle connection gets
 * a keepalive NOP-Out. The sweeper sends nothing and waits for nothing itself (it takes the send
 * lock only to fail a connection): what sends or waits runs on the worker.
 */
final class Timeouts {

    private static final System.Logger LOG = IscsiSession.LOG;
    private static final int RESERVED_TAG = Pdu.RESERVED_TAG;

    private final IscsiSession session;
    private final CommandQueue queue;
    /** When the last PDU arrived: an idle connection gets a keepalive. */
    private volatile long lastReceiveNanos = System.nanoTime();
    /** The ITT of the keepalive NOP-Out in flight, or the reserved tag while there is none. */
    private volatile int pingTag = RESERVED_TAG;
    private volatile long pingSentNanos;
    /** When commands started waiting on a closed CmdSN window, 0 while they do not; sweeper only. */
    private long windowClosedSince;

    Timeouts(IscsiSession session) {
        this.session = session;
        this.queue = session.queue;
    }

    /** Notes that the connection is alive: a PDU arrived, or a new connection came up. */
    void received() {
        lastReceiveNanos = System.nanoTime();
    }

    /** True when {@code itt} answers the keepalive in flight, which nobody waits for; it is then done. */
    boolean keepaliveAnswered(int itt) {
        if (itt == pingTag) {
            pingTag = RESERVED_TAG;
            return true;
        }
        return false;
    }

    /** One look at the clocks; the initiator's timer thread, every {@code SWEEP_PERIOD}. */
    void sweep() {
        try {
            if (session.state != State.LOGGED_IN) {
                return;
            }
            long now = System.nanoTime();
            for (Task t : queue.tasks.values()) {
                if (!t.aborting && now - t.deadline > 0) {
                    t.aborting = true;
                    int itt = t.itt();
                    session.runOnWorker(() -> abort(t, itt));
                }
            }
            SessionConnection conn = session.current;
            if (conn == null) {
                return;
            }
            // A target that keeps MaxCmdSN shut with commands waiting would hold them forever:
            // after the command timeout that is a connection failure, and recovery opens a new window.
            if (queue.waiting() > 0 && !queue.window.isOpen()) {
                if (windowClosedSince == 0) {
                    windowClosedSince = now;
                } else if (now - windowClosedSince > session.options.commandTimeout().toNanos()) {
                    windowClosedSince = 0;
                    session.recovery.connectionFailed(conn, new IscsiTimeoutException(session.targetName + " kept its command window closed ("
                            + queue.window + ") for " + session.options.commandTimeout().toMillis() + " ms with commands waiting"));
                    return;
                }
            } else {
                windowClosedSince = 0;
            }
            if (pingTag != RESERVED_TAG && now - pingSentNanos > session.options.nopTimeout().toNanos()) {
                pingTag = RESERVED_TAG;
                session.recovery.connectionFailed(conn, new IscsiTimeoutException("no NOP-In from " + session.targetName + " within "
                        + session.options.nopTimeout().toMillis() + " ms of a NOP-Out: the target or the path is dead"));
            } else if (!session.options.nopInterval().isZero() && pingTag == RESERVED_TAG
                    && now - lastReceiveNanos > session.options.nopInterval().toNanos()) {
                session.runOnWorker(() -> keepalive(conn));
            }
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "session sweeper failed", e);
        }
    }

    private void keepalive(SessionConnection conn) {
        int itt = queue.nextTag();
        pingSentNanos = System.nanoTime();
        pingTag = itt;
        try {
            conn.send(new NopOut(true, 0, itt, RESERVED_TAG, queue.window.peek(), conn.expStatSN(), Pdu.NO_DATA));
        } catch (TransportException e) {
            pingTag = RESERVED_TAG;
            LOG.log(System.Logger.Level.DEBUG, () -> "keepalive NOP-Out not sent: " + e.getMessage());
        }
    }

    /** ABORT TASK for a timed-out command; LOGICAL UNIT RESET if that fails; connection failure last. */
    private void abort(Task task, int itt) {
        SessionConnection conn = task.sentOn;
        // A reused task (a block device's slot) may carry a newer command by now: that one is not late.
        if (conn == null || conn != session.current || queue.tasks.get(itt) != task) {
            return;
        }
        IscsiTimeoutException timeout = new IscsiTimeoutException(task + " got no response within "
                + session.options.commandTimeout().toMillis() + " ms and was aborted");
        FlightEvents.CommandTimeout event = new FlightEvents.CommandTimeout();
        if (event.shouldCommit()) {
            event.target = session.targetName;
            event.command = task.toString();
            event.timeout = session.options.commandTimeout().toMillis();
            event.commit();
        }
        try {
            TaskManagementResponse.Response r = taskManagement(conn, TaskManagementRequest.Function.ABORT_TASK, task);
            if (r == TaskManagementResponse.Response.FUNCTION_COMPLETE
                    || r == TaskManagementResponse.Response.TASK_DOES_NOT_EXIST) {
                if (queue.tasks.remove(itt, task)) {
                    session.logout.settle();
                    conn.cleanup(task);
                    task.fail(timeout);
                    queue.schedulePump();
                }
                return;
            }
            LOG.log(System.Logger.Level.WARNING, () -> "ABORT TASK for " + task + " answered " + r + "; resetting the LUN");
        } catch (IscsiException e) {
            LOG.log(System.Logger.Level.WARNING, () -> "ABORT TASK for " + task + " failed (" + e.getMessage()
                    + "); resetting the LUN");
        }
        try {
            TaskManagementResponse.Response r = taskManagement(conn, TaskManagementRequest.Function.LOGICAL_UNIT_RESET, task);
            if (r == TaskManagementResponse.Response.FUNCTION_COMPLETE) {
                int lun = task.request.lun();
                for (Task t : queue.tasks.values()) {
                    if (t.request.lun() == lun && queue.tasks.remove(t.itt(), t)) {
                        session.logout.settle();
                        conn.cleanup(t);
                        t.fail(t == task ? timeout
                                : new IscsiException(t + " was aborted by a LUN reset after " + task + " timed out"));
                    }
                }
                queue.schedulePump();
                return;
            }
            session.recovery.connectionFailed(conn, new IscsiTimeoutException("LUN reset after " + task + " timed out answered " + r));
        } catch (IscsiException e) {
            session.recovery.connectionFailed(conn, new IscsiTimeoutException("LUN reset after " + task + " timed out failed: "
                    + e.getMessage()));
        }
    }

    private TaskManagementResponse.Response taskManagement(SessionConnection conn, TaskManagementRequest.Function function,
                                                           Task task) throws IscsiException {
        int itt = queue.nextTag();
        CompletableFuture<Pdu> answer = new CompletableFuture<>();
        boolean abortTask = function == TaskManagementRequest.Function.ABORT_TASK;
        session.requests.send(itt, answer, c -> new TaskManagementRequest(true, function, Luns.encode(task.request.lun()), itt,
                abortTask ? task.itt() : RESERVED_TAG, queue.window.peek(), c.expStatSN(),
                abortTask ? task.cmdSN() : 0, 0));
        return ((TaskManagementResponse) session.requests.await(answer, session.options.taskManagementTimeout(), function.toString())).response();
    }
}
