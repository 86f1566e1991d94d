package io.ostia.initiator.internal;

import io.ostia.api.ScsiRequest;
import io.ostia.api.ScsiResult;
import io.ostia.api.pdu.CommandHeader;
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
 *
 * <p>The task is its own {@link CommandHeader}: a transport encodes its fields straight into
 * the wire, so numbering a command for a send makes no record.
 */
final class Task implements TransportTask, CommandHeader {

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

    /**
     * The numbers of the last send; written under the session's send lock, by {@link #number}
     * only, {@code numbered} last: a reader that sees it sees the ExpStatSN of that send too.
     */
    private volatile int itt;
    private int expStatSN;
    private volatile int cmdSN;
    private volatile boolean numbered;
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
        numbered = false;
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
    void number(int itt, int cmdSN, int expStatSN) {
        this.itt = itt;
        this.expStatSN = expStatSN;
        this.cmdSN = cmdSN;
        numbered = true;
    }

    int itt() {
        return itt;
    }

    /** The record of this command as last numbered, made per call (aborts, traces); null while never sent. */
    @Override
    public ScsiCommand command() {
        return numbered ? ScsiCommand.of(this) : null;
    }

    @Override
    public CommandHeader header() {
        return this;
    }

    @Override
    public boolean immediate() {
        return false;
    }

    @Override
    public boolean finalFlag() {
        return true;
    }

    @Override
    public boolean read() {
        return request.direction() == ScsiRequest.Direction.READ;
    }

    @Override
    public boolean write() {
        return request.direction() == ScsiRequest.Direction.WRITE;
    }

    @Override
    public ScsiCommand.TaskAttribute attribute() {
        return ScsiCommand.TaskAttribute.SIMPLE;
    }

    @Override
    public long lun() {
        return lunField;
    }

    @Override
    public int initiatorTaskTag() {
        return itt;
    }

    @Override
    public int expectedDataTransferLength() {
        return (int) request.buffer().byteSize();
    }

    @Override
    public int cmdSN() {
        return cmdSN;
    }

    @Override
    public int expStatSN() {
        return expStatSN;
    }

    @Override
    public byte[] cdb() {
        return request.cdb();
    }

    @Override
    public OptionalInt expectedBidirectionalReadDataLength() {
        return OptionalInt.empty();
    }

    @Override
    public MemorySegment buffer() {
        return request.buffer();
    }

    @Override
    public String toString() {
        return request.describe() + (!numbered ? " (queued)"
                : String.format(" (ITT 0x%08x, CmdSN %s)", itt, Integer.toUnsignedString(cmdSN)));
    }
}
