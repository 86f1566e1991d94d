package io.ostia.initiator.internal;

import io.ostia.api.ScsiRequest;
import io.ostia.api.ScsiResult;
import io.ostia.api.pdu.Pdu;
import io.ostia.api.pdu.ScsiCommand;
import io.ostia.api.scsi.Luns;
import io.ostia.api.spi.TransportTask;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;

/**
 * One SCSI command on its way through the session: queued, sent on a connection (with an ITT
 * and CmdSN of that connection), maybe requeued after a connection failure, then completed once.
 *
 * <p>A task either completes a future of its own ({@link io.ostia.api.Session#execute}: one task per command)
 * or tells a {@link Listener} that reuses it for its next command ({@link #reset}): a block
 * device's slot, whose commands then cost no task, future or request object each. Whoever takes
 * the task out of the queue (the sent table's {@code remove}, {@code pending}'s poll) ends it.
 */
final class Task implements TransportTask {

    /** Hears the end of a reused task's command; the task may be reset and submitted again from here. */
    interface Listener {
        void taskDone(Task task, ScsiResult result, Throwable failure);
    }

    private static final VarHandle LIVE;

    static {
        try {
            LIVE = MethodHandles.lookup().findVarHandle(Task.class, "live", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** Null for a task of {@link #future}. */
    private final Listener listener;
    private final CompletableFuture<ScsiResult> future;
    /** The command; set before each submit, which publishes it (the send lock). */
    ScsiRequest request;
    private long lunField;
    /** True from submit to the end: a second end (a bug) is dropped rather than ending the next command. */
    @SuppressWarnings("unused")
    private volatile boolean live;

    /** The command as last numbered for sending; fields guarded by the session's send lock. */
    private volatile ScsiCommand command;
    /** The connection the command was last sent on, null while queued. */
    volatile SessionConnection sentOn;
    /** When the command times out, in System.nanoTime terms; meaningful while sent. */
    volatile long deadline;
    /** Set once an ABORT TASK went out for this task, so the sweeper escalates rather than repeats. */
    volatile boolean aborting;
    /** Connections this task was sent on and lost with; bounds how often one command is reissued. */
    int attempts;
    /** Reset unit attentions met after a re-login and answered by sending again; receive thread. */
    int resetAttentions;

    /** A task of one command, ending in its future. */
    Task(ScsiRequest request) {
        this.listener = null;
        this.future = new CompletableFuture<>();
        reset(request);
    }

    /** A task to reuse: {@link #reset} it with each command; its end goes to {@code listener}. */
    Task(Listener listener) {
        this.listener = listener;
        this.future = null;
    }

    /** Makes this task {@code request}'s, as new; only while it is not in the session's hands. */
    Task reset(ScsiRequest request) {
        this.request = request;
        this.lunField = Luns.encode(request.lun());
        command = null;
        sentOn = null;
        aborting = false;
        attempts = 0;
        resetAttentions = 0;
        live = true;
        return this;
    }

    /** The future of a task made for one command. */
    CompletableFuture<ScsiResult> future() {
        return future;
    }

    void complete(ScsiResult result) {
        end(result, null);
    }

    void fail(Throwable failure) {
        end(null, failure);
    }

    /** Ends the command once, with {@code result} or {@code failure}; a second end is dropped. */
    private void end(ScsiResult result, Throwable failure) {
        if (!LIVE.compareAndSet(this, true, false)) {
            return;
        }
        if (listener != null) {
            listener.taskDone(this, result, failure);
        } else if (failure == null) {
            future.complete(result);
        } else {
            future.completeExceptionally(failure);
        }
    }

    /** Numbers the command for a send; the transport adds immediate data and the F bit. */
    ScsiCommand number(int itt, int cmdSN, int expStatSN) {
        boolean read = request.direction() == ScsiRequest.Direction.READ;
        boolean write = request.direction() == ScsiRequest.Direction.WRITE;
        ScsiCommand c = new ScsiCommand(false, true, read, write, ScsiCommand.TaskAttribute.SIMPLE, lunField, itt,
                (int) request.buffer().byteSize(), cmdSN, expStatSN, request.cdb(), OptionalInt.empty(),
                Pdu.NO_DATA);
        command = c;
        return c;
    }

    int itt() {
        return command.initiatorTaskTag();
    }

    @Override
    public ScsiCommand command() {
        return command;
    }

    @Override
    public MemorySegment buffer() {
        return request.buffer();
    }

    @Override
    public String toString() {
        ScsiCommand c = command;
        return request.describe() + (c == null ? " (queued)"
                : String.format(" (ITT 0x%08x, CmdSN %s)", c.initiatorTaskTag(), Integer.toUnsignedString(c.cmdSN())));
    }
}
