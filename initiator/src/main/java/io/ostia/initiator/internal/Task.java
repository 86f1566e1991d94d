package io.ostia.initiator.internal;

import io.ostia.api.ScsiRequest;
import io.ostia.api.ScsiResult;
import io.ostia.api.pdu.Pdu;
import io.ostia.api.pdu.ScsiCommand;
import io.ostia.api.scsi.Luns;
import io.ostia.api.spi.TransportTask;
import java.lang.foreign.MemorySegment;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;

/**
 * One SCSI command on its way through the session: queued, sent on a connection (with an ITT
 * and CmdSN of that connection), maybe requeued after a connection failure, then completed once.
 */
final class Task implements TransportTask {
    final ScsiRequest request;
    final CompletableFuture<ScsiResult> future = new CompletableFuture<>();
    private final long lunField;

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

    Task(ScsiRequest request) {
        this.request = request;
        this.lunField = Luns.encode(request.lun());
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
