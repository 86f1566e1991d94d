package io.ostia.target.internal.iscsi;

import io.ostia.api.pdu.CommandHeader;
import io.ostia.api.pdu.DataOut;
import io.ostia.api.pdu.DataPlacement;
import io.ostia.api.pdu.Pdu;
import io.ostia.api.pdu.ScsiCommand;
import io.ostia.target.internal.scsi.LogicalUnit;
import io.ostia.target.internal.scsi.ScsiTask;

import java.io.IOException;
import java.lang.foreign.MemorySegment;

/**
 * Moves one connection's SCSI data between the initiator and the target's buffers: write data in
 * (immediate, unsolicited, solicited), read data and status out. {@link IscsiConnection} keeps
 * CmdSN ordering, task management and the execution of commands on their LU; what depends on how
 * data travels (Data-Out, R2T and Data-In PDUs over TCP; RDMA over iSER) lives behind this
 * interface, with the checks of a command's data fields against its direction and the negotiated
 * limits.
 *
 * <p><b>Threads.</b> Every method is called on the connection's receive thread: {@link #destination}
 * by the transport's decoder, the rest by {@link IscsiConnection} while it handles a PDU or the end
 * of the connection. Implementations need no locking.
 *
 * <p><b>Order.</b> {@link #destination} for a PDU comes before that PDU reaches {@link #command}
 * or {@link #dataOut}. The connection asks {@link #destination} about a SCSI command only when
 * {@link #command} for that same command follows (it is immediate or carries the next CmdSN); a
 * command held for a CmdSN gap brings its immediate data in its own segment when it runs, and a
 * dropped one never reaches the mover. The connection calls {@link #command} in CmdSN order and
 * {@link #dataOut} in arrival order. Once a command's data is in (at once for a read) the mover
 * runs it through {@link IscsiConnection#runCommand}, which calls {@link #respond} before it
 * returns. Nothing is called after {@link #close}.
 *
 * <p><b>Buffers.</b> The mover owns every data buffer: what {@link #destination} returns (the
 * decoder fills it), the write data it passes to {@code runCommand} (valid until that returns),
 * and the {@link #dataInBuffer} a read's data is produced in (valid until {@link #respond}
 * returns). {@link #close} frees them all.
 */
interface DataMover extends DataPlacement {

    /**
     * Where immediate data or Data-Out data goes, or null to let the decoder allocate. Called only
     * in the full feature phase of a normal (not discovery) session, and for a SCSI command only
     * when {@link #command} for it comes next.
     */
    @Override
    MemorySegment destination(Pdu header, int dataSegmentLength);

    /**
     * A SCSI command of a normal session: checks its data fields against its direction and the
     * negotiated limits, collects any write data, then runs it; or answers it at once when its
     * data cannot be taken (limits, budget, no such LU).
     *
     * <p>{@code command} may be the connection's reused {@link io.ostia.api.pdu.ScsiCommandHolder}:
     * it is valid for this call only (and for the {@link IscsiConnection#runCommand} and {@link
     * #respond} calls made within it). A command kept beyond the call (a write waiting for its
     * data) is kept as {@link #kept}, or copied into a holder of the mover's own ({@link
     * io.ostia.api.pdu.ScsiCommandHolder#copyOf}, the iSER mover's, reused per pending write).
     *
     * @param placed holds the immediate data in its first {@code immediateLength} bytes; may be
     *     longer (the buffer this mover's placement gave, taken without a slice), empty when there is none
     * @param immediateLength the DataSegmentLength of the command
     * @param unit the addressed LU, or null when there is none
     */
    void command(CommandHeader command, MemorySegment placed, int immediateLength, LogicalUnit unit)
            throws IOException;

    /** The immediate data alone, for the paths that keep or echo it (a slice only when {@code placed} is longer). */
    static MemorySegment immediateData(MemorySegment placed, int immediateLength) {
        return DataPlacement.leading(placed, immediateLength);
    }

    /**
     * The command to keep beyond the call that handed it over: a record as it is, a view (a
     * reused holder) copied, CDB and all, so that the next command cannot change it.
     */
    static ScsiCommand kept(CommandHeader command) {
        return command instanceof ScsiCommand record ? record : ScsiCommand.of(command);
    }

    /** Data-Out for a write collecting its data; unknown tasks' data is dropped. */
    void dataOut(DataOut dataOut) throws IOException;

    /** Where a read of {@code expectedLength > 0} bytes puts its data; may be shorter (the LU defers the rest). */
    MemorySegment dataInBuffer(long expectedLength);

    /** Sends the outcome of {@code task}: its Data-In, if any, and the command's status; {@code command} as in {@link #command}. */
    void respond(CommandHeader command, ScsiTask task, long expectedLength) throws IOException;

    /** Drops the write collecting data under this tag on this LUN, without a response; false if none. */
    boolean abort(int initiatorTaskTag, long lun);

    /** Drops the writes collecting data for {@code unit} (null: every LU), without responses. */
    void abort(LogicalUnit unit);

    /**
     * Aborts, with CHECK CONDITION (ABORTED COMMAND, INITIATOR RESPONSE TIMEOUT), every write whose
     * data has not progressed for {@code timeoutNanos}, and returns its buffer: an initiator that
     * withholds Data-Out cannot keep the target's memory. Returns whether writes still wait for
     * data. A mover that fetches the data itself (iSER's RDMA Reads) has nothing to wait for.
     */
    default boolean expireWrites(long nowNanos, long timeoutNanos) throws IOException {
        return false;
    }

    /**
     * The Residual Count of a response (RFC 7143 §11.4.5, the same for Data-In with status): by
     * how much the command's own transfer length exceeds (overflow) or falls short of (underflow)
     * the initiator's expected length.
     */
    static int residual(long transferLength, long expectedLength) {
        return (int) Math.abs(transferLength - expectedLength);
    }

    /** The connection ended: drops every task and frees every buffer. */
    void close();
}
