package io.ostia.initiator.internal;

import io.ostia.api.IscsiException;
import io.ostia.api.IscsiTimeoutException;
import io.ostia.api.SessionOptions;
import io.ostia.api.TransportException;
import io.ostia.api.pdu.Pdu;
import io.ostia.api.pdu.TaskTagTable;
import io.ostia.initiator.internal.IscsiSession.State;
import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The session's SCSI commands on their way out: those waiting for the CmdSN window or the queue
 * depth ({@code pending}), those sent ({@link #tasks}, by ITT), the {@link #window}, the task
 * tags, and the {@link #sendLock}.
 *
 * <h2>Locks and threads</h2>
 * {@code sendLock} orders CmdSN assignment with sends, so commands leave in CmdSN order, and
 * guards {@code pending}. The session's state changes under it too, so no command enters a
 * queue that is closing. It is the session's outermost lock: the window's monitor and the
 * drain's monitor are taken inside it or alone, never the other way round.
 * <ul>
 *   <li>A caller of {@link #submit} numbers and sends its command itself when the window and the
 *       depth allow (the fast path: no hand-off, no lock but this one);
 *       otherwise the command waits in {@code pending}.</li>
 *   <li>The receive thread removes answered commands from {@code tasks} (a table that needs no
 *       lock) and, when room freed up and commands wait, {@link #schedulePump schedules} a
 *       {@link #pump} on the session's worker: it never sends from here itself.</li>
 * </ul>
 * Futures may be completed with {@code sendLock} held ({@link #requeueInFlight}, {@link
 * #failAll}); the lock is reentrant, so a dependent action that submits again does not deadlock.
 */
final class CommandQueue {

    /** A command that was in flight on this many lost connections fails rather than going again. */
    private static final int MAX_ATTEMPTS = 5;

    private final IscsiSession session;
    private final SessionOptions options;

    final ReentrantLock sendLock = new ReentrantLock();
    final CommandWindow window = new CommandWindow();
    /** Commands waiting for the window or the queue depth; guarded by sendLock. */
    private final ArrayDeque<Task> pending = new ArrayDeque<>();
    /**
     * pending's size, written under sendLock after every change, read without it by the paths
     * that free room (a completion, a window update) to decide whether a pump is needed.
     */
    private volatile int waiting;
    /** Sent commands by ITT. */
    final TaskTagTable<Task> tasks = new TaskTagTable<>(128);
    private final AtomicInteger nextTag = new AtomicInteger(1);
    private final AtomicBoolean pumpScheduled = new AtomicBoolean();

    CommandQueue(IscsiSession session) {
        this.session = session;
        this.options = session.options;
    }

    /** Sends {@code task} now if the session, window and depth allow, else queues it; a closing session fails it. */
    void submit(Task task) {
        sendLock.lock();
        try {
            State s = session.state;
            if (s == State.LOGGING_OUT || s == State.CLOSED || s == State.FAILED) {
                task.fail(session.closedError());
                return;
            }
            if (s == State.LOGGED_IN && pending.isEmpty() && canSendNow()) {
                sendNow(task);
            } else {
                pending.addLast(task);
                waiting = pending.size();
                // A completion or window update between canSendNow and the enqueue saw nothing
                // waiting and scheduled no pump; with waiting written, look again (one side sees the other).
                if (s == State.LOGGED_IN && canSendNow()) {
                    pump();
                }
            }
        } finally {
            sendLock.unlock();
        }
    }

    private boolean canSendNow() {
        return window.isOpen() && tasks.size() < options.queueDepth();
    }

    /** Numbers and sends a task; caller holds sendLock. */
    private void sendNow(Task task) {
        SessionConnection conn = session.current;
        int itt = nextTag();
        task.number(itt, window.take(), conn.expStatSN());
        task.sentOn = conn;
        task.aborting = false;
        task.deadline = System.nanoTime() + options.commandTimeout().toNanos();
        tasks.put(itt, task);
        try {
            conn.send(task);
        } catch (TransportException e) {
            // The connection is failing: the transport reports it, and recovery requeues the task.
            IscsiSession.LOG.log(System.Logger.Level.DEBUG,
                    () -> "send of " + task + " failed, left for recovery: " + e.getMessage());
        }
    }

    /** Sends what waits in {@code pending}, as far as window and depth allow; runs on the worker. */
    void pump() {
        pumpScheduled.set(false);
        sendLock.lock();
        try {
            while ((session.state == State.LOGGED_IN || session.state == State.LOGGING_OUT) && !pending.isEmpty()
                    && canSendNow()) {
                sendNow(pending.pollFirst());
                waiting = pending.size();
            }
        } finally {
            sendLock.unlock();
        }
    }

    /** Has the worker pump if commands wait and no pump is scheduled yet; any thread, no lock. */
    void schedulePump() {
        if (waiting > 0 && pumpScheduled.compareAndSet(false, true)) {
            session.runOnWorker(this::pump);
        }
    }

    /** How many commands wait to be sent; read without the lock. */
    int waiting() {
        return waiting;
    }

    /** True when no sent command is left (with {@code withWaiting}, none waits either). */
    boolean settled(boolean withWaiting) {
        return tasks.isEmpty() && (!withWaiting || waiting == 0);
    }

    /** The next initiator task tag, skipping the reserved one; for commands and immediate requests alike. */
    int nextTag() {
        int tag;
        do {
            tag = nextTag.getAndIncrement();
        } while (tag == Pdu.RESERVED_TAG);
        return tag;
    }

    /**
     * Puts every sent task back at the head of the queue, in CmdSN order. {@code counted}: the
     * connection failed, so this is one of the task's {@value #MAX_ATTEMPTS} attempts (a graceful
     * move is not).
     */
    void requeueInFlight(Throwable cause, boolean counted) {
        sendLock.lock();
        try {
            List<Task> inFlight = tasks.removeAll();
            inFlight.sort(Comparator.comparingLong(t -> Integer.toUnsignedLong(t.cmdSN())));
            for (int i = inFlight.size() - 1; i >= 0; i--) {
                Task t = inFlight.get(i);
                t.sentOn = null;
                if (t.aborting) {
                    t.fail(new IscsiTimeoutException(t + " timed out and its abort did not finish"));
                } else if (counted && ++t.attempts >= MAX_ATTEMPTS) {
                    t.fail(new TransportException(t + " was in flight on " + t.attempts
                            + " connections that failed; the last failure: " + cause.getMessage(), cause));
                } else {
                    pending.addFirst(t);
                }
            }
            waiting = pending.size();
        } finally {
            sendLock.unlock();
        }
    }

    /**
     * Puts a task that came back (a unit attention answered by sending it again) at the head of
     * the queue; the worker sends it. Any thread, the receive thread included.
     */
    void resubmit(Task task) {
        sendLock.lock();
        try {
            State s = session.state;
            if (s == State.CLOSED || s == State.FAILED) {
                task.fail(session.closedError());
                return;
            }
            task.sentOn = null;
            pending.addFirst(task);
            waiting = pending.size();
        } finally {
            sendLock.unlock();
        }
        schedulePump();
    }

    /** Fails every sent and every waiting command with {@code error}. */
    void failAll(IscsiException error) {
        sendLock.lock();
        try {
            for (Task t : tasks.removeAll()) {
                t.fail(error);
            }
            for (Task t; (t = pending.pollFirst()) != null; ) {
                t.fail(error);
            }
            waiting = 0;
        } finally {
            sendLock.unlock();
        }
    }
}
